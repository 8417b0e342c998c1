import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/cli/main.js';
import { cliMessage } from '../../src/cli/option-flags.js';
import { UdpkitError, UsageError, optionPhrase } from '../../src/errors.js';

describe('library errors name options; the CLI shows flags', () => {
  it('swaps the option phrase for the flag', () => {
    const err = new UdpkitError('UDPKIT_SEND_FAILED', `cannot send to 10.0.0.255:5000/udp: permission denied (a broadcast address needs ${optionPhrase('broadcast')})`, { option: 'broadcast' });
    expect(err.message).toBe('cannot send to 10.0.0.255:5000/udp: permission denied (a broadcast address needs the broadcast option)');
    expect(cliMessage(err)).toBe('cannot send to 10.0.0.255:5000/udp: permission denied (a broadcast address needs --broadcast)');
    expect(describeFailure(err)).toEqual({ line: 'cannot send to 10.0.0.255:5000/udp: permission denied (a broadcast address needs --broadcast)', code: 1 });
  });

  it('shows the flag with its argument where the CLI takes one', () => {
    const err = new UdpkitError('UDPKIT_IO_FAILED', `cannot join multicast group 239.1.1.1: name one with ${optionPhrase('iface')}`, { option: 'iface' });
    expect(cliMessage(err)).toBe('cannot join multicast group 239.1.1.1: name one with --iface NAME');
  });

  it('leaves a message alone when it names no option, or one the CLI has no flag for', () => {
    expect(cliMessage(new UdpkitError('UDPKIT_SEND_FAILED', 'the broadcast option'))).toBe('the broadcast option');
    expect(cliMessage(new UdpkitError('UDPKIT_SEND_FAILED', 'the fooBar option', { option: 'fooBar' }))).toBe('the fooBar option');
  });

  it('UsageError lives with the other errors, coded, exit 2, with an optional option', () => {
    const err = new UsageError(`give ${optionPhrase('broadcast')}`, 'broadcast');
    expect(err).toMatchObject({ code: 'UDPKIT_USAGE', name: 'UsageError', option: 'broadcast' });
    expect(describeFailure(err)).toEqual({ line: 'give --broadcast', code: 2 });
    expect(Object.hasOwn(new UsageError('x'), 'option')).toBe(false);
  });
});
