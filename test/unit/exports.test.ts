import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import * as protocol from '../../src/protocol/index.js';
import { PROTOCOL, TOP_LEVEL } from '../helpers/public-names.js';

describe('public entry points', () => {
  it('udpkit exports exactly the user API', () => {
    expect(Object.keys(api).sort()).toEqual([...TOP_LEVEL].sort());
  });

  it('udpkit/protocol exports exactly the documented protocol cores and codecs', () => {
    expect(Object.keys(protocol).sort()).toEqual([...PROTOCOL].sort());
  });

  it('keeps internals out of both', () => {
    const internals = ['kernelDropsForFd', 'parseRouteTable', 'entryExtra', 'decide', 'formatTextLine', 'formatBenchReport', 'describeErrno', 'optionPhrase'];
    for (const name of internals) {
      expect(Object.hasOwn(api, name), `udpkit exports ${name}`).toBe(false);
      expect(Object.hasOwn(protocol, name), `udpkit/protocol exports ${name}`).toBe(false);
    }
  });

  it('the two entry points share no name', () => {
    expect(Object.keys(api).filter((name) => Object.hasOwn(protocol, name))).toEqual([]);
  });
});
