/**
 * Dump stage: the plugin's dump, connected to the compressor. A dump is a stream the plugin made
 * or a command the core starts itself, so that its stdout can be the compressor's pipe and its
 * bytes never pass through Node (unless the plugin must see them: a trailer, row counts).
 */
import { ReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { spawnTool, toolFailure } from '../exec/exec.js';
import type { BackupCommand, BackupStream, ItemFacts } from '../plugins/types.js';
import type { CompressionStage } from './compress.js';

export type Dump = BackupStream | BackupCommand;

export interface DumpStage {
  /** Resolves with the dump's facts once the plugin judged it whole; rejects otherwise. */
  done: Promise<ItemFacts>;
  /** Stops the dump early, after a failure elsewhere. */
  stop(): void;
}

/** Starts the dump into the compressor. */
export async function dumpStage(dump: Dump, into: CompressionStage, signal: AbortSignal, service?: string): Promise<DumpStage> {
  if ('stream' in dump) {
    if (into.fromFile) {
      dump.stream.destroy(); // the compressor reads the file itself
      return { done: dump.done, stop: () => {} };
    }
    const piped = pipeline(dump.stream, into.input);
    const done = Promise.all([piped, dump.done]).then(([, facts]) => facts);
    return { done, stop: () => dump.stream.destroy() };
  }
  const direct = into.inputIsPipe && !dump.through;
  const child = await spawnTool(dump.command, dump.args, {
    env: dump.env,
    cwd: dump.cwd,
    signal,
    debianPackage: dump.debianPackage,
    service,
    stdout: direct ? into.input : 'pipe',
    // A small dump is written in a few writes anyway; stdbuf would be one more process to start.
    bufferOutput: !isSmall(dump),
  });
  let piped: Promise<void> = Promise.resolve();
  if (direct)
    into.input.destroy(); // the child holds its own copy; ours would keep EOF away
  else if (child.stdout) piped = dump.through ? pipeline(child.stdout, dump.through, into.input) : pipeline(child.stdout, into.input);
  else into.input.end();
  const done = Promise.all([child.result, piped]).then(async ([result]) => {
    if (result.code === 'ENOENT') throw toolFailure(dump.command, result, dump.debianPackage);
    return dump.finish(result);
  });
  return { done, stop: () => child.kill('SIGKILL') };
}

/** Below this many bytes a dump is small: compressed in-process where Node has zstd (BackupCommand.expectedBytes). */
export const smallDump = 8 * 1024 * 1024;

/** True for a dump command that says it will be small (BackupCommand.expectedBytes). */
export function isSmall(dump: Dump): boolean {
  return 'command' in dump && dump.expectedBytes !== undefined && dump.expectedBytes < smallDump;
}

/** The path of a dump that is a file nobody has read from yet (fs.createReadStream): the zstd binary can read it itself. */
export function unreadFileOf(dump: Dump): string | undefined {
  if (!('stream' in dump) || !(dump.stream instanceof ReadStream)) return undefined;
  const { path, bytesRead, start } = dump.stream as ReadStream & { start?: number };
  return typeof path === 'string' && bytesRead === 0 && !start && !dump.stream.readableFlowing ? path : undefined;
}

/** The plugin's clean-up (credential files, a temporary RDB), once the item is over. */
export async function disposeOf(dump: Dump): Promise<void> {
  try {
    await dump.dispose?.();
  } catch {
    // Best effort: a leftover temporary file must not turn a good backup into a failed one.
  }
}
