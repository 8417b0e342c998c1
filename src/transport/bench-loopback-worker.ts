/**
 * Worker-thread entry of {@link benchLoopback}: a bench server on 127.0.0.1, on a thread of its
 * own so that the client's sending does not starve its receiving. Posts `{ port }` once bound;
 * any message back closes it.
 */
import { parentPort } from 'node:worker_threads';
import { benchServer } from './bench-server.js';

const parent = parentPort;
if (parent) {
  const server = await benchServer({ address: '127.0.0.1', port: 0 });
  parent.postMessage({ port: server.address().port });
  parent.once('message', () => void server.close().then(() => parent.close()));
}
