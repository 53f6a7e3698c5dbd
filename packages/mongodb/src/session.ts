/** What backup and restore share: the connection, its 0600 --config file and error explanations. */
import { BattError, privateFile, serverOf, type ConfigOf } from '@batt/core/kit';
import { configFile, type Connection } from './args.js';
import type { mongodbKeys } from './index.js';

export function connectionOf(config: ConfigOf<typeof mongodbKeys>): Connection {
  return { ...serverOf('mongodb', config), uri: config.uri, authDatabase: config.auth_database, tls: config.tls === true };
}

export const secretsFile = (home: string, conn: Connection): { path: string; dispose(): void } => privateFile(home, 'mongo-', 'mongo.yaml', configFile(conn));

export function explain(error: BattError): BattError {
  if (/Authentication failed|auth error/i.test(error.message))
    return new BattError('TOOL_FAILED', `mongodb: authentication failed: ${error.message}`, {
      hint: 'check mongodb.user and mongodb.password (or BATT_MONGODB_USER / BATT_MONGODB_PASSWORD)',
    });
  if (/no reachable servers|connection refused|server selection error/i.test(error.message))
    return new BattError('TOOL_FAILED', `mongodb: cannot reach the server: ${error.message}`, { hint: 'check mongodb.host/port or mongodb.uri, and that the server runs' });
  return error;
}
