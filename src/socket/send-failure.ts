/** The one shape of a failed send or connect, as {@link bindFailure} is for a failed bind. */
import { UdpkitError, describeErrno, errnoOf, formatHostPort } from '../errors.js';

/** What was being done when the OS said no, beyond the error itself. */
export interface SendFailureContext {
  /** The call that failed: `'send'`, `'sendto'`, `'connect'`... */
  readonly syscall: string;
  /** `'udp'` (default) or `'tcp'`: shown after the port. */
  readonly transport?: 'udp' | 'tcp';
  /** The words before the address (default `cannot send to`). */
  readonly doing?: string;
  /** Replaces the plain errno phrase when the context explains more. */
  readonly why?: string;
  /** The option the `why` names (see `optionPhrase` in src/errors.ts). */
  readonly option?: string;
}

/**
 * One line saying what failed and where: `cannot send to 127.0.0.1:5000/udp: connection refused`,
 * coded `UDPKIT_SEND_FAILED` with syscall, address, port and errno, so that every sender words
 * and shapes its failures alike.
 * @example throw sendFailure(err, '127.0.0.1', 5000, { syscall: 'send' })
 */
export function sendFailure(err: unknown, address: string, port: number, context: SendFailureContext): UdpkitError {
  const errno = errnoOf(err);
  const why = context.why ?? describeErrno(errno);
  return new UdpkitError('UDPKIT_SEND_FAILED', `${context.doing ?? 'cannot send to'} ${formatHostPort(address, port)}/${context.transport ?? 'udp'}: ${why}`, {
    syscall: context.syscall,
    address,
    port,
    cause: err,
    ...(errno !== undefined ? { errno } : {}),
    ...(context.option !== undefined ? { option: context.option } : {}),
  });
}
