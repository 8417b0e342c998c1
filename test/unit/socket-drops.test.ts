import { describe, expect, it } from 'vitest';
import { kernelDropsForFd, socketInode, udpDropsForInode, udpRxQueueForInode } from '../../src/net/socket-drops.js';

// Two real lines of /proc/net/udp6 (the second shortened sl number, as the kernel prints past 9999).
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  311: 00000000000000000000000000000000:1388 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 69559 2 00000000a8198d4b 24967
12307: 00000000000000000000000000000000:A474 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 14172 2 00000000a8198d4b 0
`;

describe('udpDropsForInode', () => {
  it('reads the drops column of the socket with that inode', () => {
    expect(udpDropsForInode(UDP6, 69559)).toBe(24967);
    expect(udpDropsForInode(UDP6, 14172)).toBe(0);
    expect(udpDropsForInode(UDP6, 1)).toBeUndefined();
    expect(udpDropsForInode('', 69559)).toBeUndefined();
  });
});

describe('kernelDropsForFd', () => {
  it('finds the inode through /proc/self/fd and looks in udp6 then udp', async () => {
    const readLink = async (p: string): Promise<string> => (p === '/proc/self/fd/18' ? 'socket:[14172]' : Promise.reject(new Error('ENOENT')));
    const files: Record<string, string> = { '/proc/net/udp6': UDP6, '/proc/net/udp': '' };
    const readFile = async (p: string): Promise<string> => files[p] ?? Promise.reject(new Error('ENOENT'));
    expect(await kernelDropsForFd(18, { readLink, readFile })).toBe(0);
    expect(await kernelDropsForFd(19, { readLink, readFile })).toBeUndefined();
  });

  it('is undefined for a descriptor that is not a socket', async () => {
    expect(await socketInode(0, async () => '/dev/pts/0')).toBeUndefined();
  });
});

describe('udpRxQueueForInode', () => {
  it('reads the rx_queue half of the tx_queue:rx_queue column, in hex', () => {
    const queued = UDP6.replace('00000000:00000000 00:00000000 00000000     0        0 14172', '00000000:00000A00 00:00000000 00000000     0        0 14172');
    expect(udpRxQueueForInode(queued, 14172)).toBe(0xa00);
    expect(udpRxQueueForInode(queued, 69559)).toBe(0);
    expect(udpRxQueueForInode(queued, 1)).toBeUndefined();
  });
});
