import { spawnTool, writeArtifact } from './dist/index.js';
const tar = await spawnTool('tar', ['-cf', '-', '-C', '/usr', 'share/doc/bash']);
const ac = new AbortController();
await new Promise(r => setTimeout(r, 50));
const a = await writeArtifact({ source: tar.stdout, sourceDone: tar.result, dir: '/tmp/t4', base: 'x', ext: '.tar', compression: process.argv[2], uniqueSuffix: 'r', signal: ac.signal });
console.log(a);
