import { describe, expect, it } from 'vitest';
import { hostnameLoopbackNote, hostsFileAddress, loopbackNoteFor, parseHostsFile } from '../../src/net/hosts-file.js';
import { fakeNetOs, loadSnapshot, withFiles } from '../helpers/fake-net-os.js';

const DEBIAN = '127.0.0.1\tlocalhost\n127.0.1.1\tmyhost.example.org\tmyhost\n\n::1     localhost ip6-localhost ip6-loopback\n';

describe('parseHostsFile', () => {
  it('reads addresses and names, skipping comments and junk', () => {
    expect(parseHostsFile('# 10.0.0.1 commented\n10.0.0.2 a b # trailing\nnot-an-ip x\n10.0.0.3\n  fe80::1%eth0 c\n')).toEqual([
      { address: '10.0.0.2', names: ['a', 'b'] },
      { address: 'fe80::1%eth0', names: ['c'] },
    ]);
  });
});

describe('hostsFileAddress', () => {
  it('matches whole names without regard to case, first IPv4 line winning', () => {
    const entries = parseHostsFile('::1 myhost\n192.168.1.5 MyHost\n127.0.1.1 myhost\n');
    expect(hostsFileAddress(entries, 'myhost')).toBe('192.168.1.5');
    expect(hostsFileAddress(entries, 'myhos')).toBeUndefined();
    expect(hostsFileAddress(entries, 'myhost2')).toBeUndefined();
  });
});

describe('loopbackNoteFor', () => {
  it("explains Debian's 127.0.1.1 entry", () => {
    expect(loopbackNoteFor('myhost', DEBIAN)).toBe(
      '/etc/hosts maps this machine\'s name "myhost" to 127.0.1.1, so the textbook\'s gethostbyname(gethostname()) ' +
        'returns 127.0.1.1, a loopback address no other host can reach; udpkit reads the interfaces instead',
    );
  });

  it('says nothing when the name maps to a LAN address, only to IPv6, or not at all', () => {
    expect(loopbackNoteFor('myhost', '192.168.1.5 myhost\n127.0.1.1 myhost\n')).toBeUndefined();
    expect(loopbackNoteFor('myhost', '::1 myhost\n')).toBeUndefined();
    expect(loopbackNoteFor('otherhost', DEBIAN)).toBeUndefined();
    expect(loopbackNoteFor('myhost', '# 127.0.1.1 myhost\n')).toBeUndefined();
  });
});

describe('hostnameLoopbackNote', () => {
  it("reads /etc/hosts and the hostname through the injected readers", async () => {
    expect(await hostnameLoopbackNote(fakeNetOs(loadSnapshot('laptop')))).toMatch(/^\/etc\/hosts maps this machine's name "laptop" to 127\.0\.1\.1,/);
  });

  it('says nothing when /etc/hosts cannot be read', async () => {
    expect(await hostnameLoopbackNote(fakeNetOs(withFiles(loadSnapshot('laptop'), { '/etc/hosts': undefined })))).toBeUndefined();
  });
});
