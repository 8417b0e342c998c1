/**
 * Picks the socket under a listener: the native addon (recvmmsg batches) when it is built and
 * not disabled with UDPKIT_NATIVE=0, node:dgram otherwise. Both bind the same way and fail with
 * the same coded errors.
 */
import { loadNative } from '../native/binding.js';
import { ipFamily } from '../validate.js';
import type { ReceiveBackend } from './backend.js';
import { bindFailure, bindUdp, type BindRequest } from './bind.js';
import { DgramBackend } from './dgram-backend.js';
import { openNativeBackend } from './native-backend.js';

/** Binds as asked and returns the backend that will receive. */
export async function openBackend(req: BindRequest): Promise<ReceiveBackend> {
  const native = loadNative();
  if (native) {
    const literal = req.address === undefined ? undefined : ipFamily(req.address);
    if (req.address !== undefined && literal === undefined) throw bindFailure(Object.assign(new Error(), { code: 'EINVAL' }), req.address, req.port);
    return openNativeBackend(native, req, literal);
  }
  const { socket, dualStack } = await bindUdp(req);
  return new DgramBackend(socket, dualStack);
}
