/** A listener's socket that joins multicast groups: always node:dgram (the native backend cannot join). */
import type { ReceiveBackend } from './backend.js';
import { bindUdp, type BindRequest } from './bind.js';
import { DgramBackend } from './dgram-backend.js';
import { joinGroups, type Membership } from './multicast.js';

/** Binds as asked, joins every group, and returns the backend; closes the socket if a join fails. */
export async function openMulticastBackend(req: BindRequest, membership: Membership): Promise<ReceiveBackend> {
  const { socket, dualStack } = await bindUdp(req);
  try {
    joinGroups(socket, membership);
  } catch (err) {
    socket.close();
    throw err;
  }
  return new DgramBackend(socket, dualStack);
}
