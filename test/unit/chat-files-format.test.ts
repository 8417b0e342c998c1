/** `udpkit chat`'s file commands as typed, and file events as shown (JSON and terminal lines). */
import { describe, expect, it } from 'vitest';
import { parseChatLine } from '../../src/cli/chat-input.js';
import { anyFileActivity, chatFileEventJson, formatBytes, formatChatFileEvent, formatFileSummary } from '../../src/format/chat-files.js';
import type { ChatFileEvent } from '../../src/transport/chat-files.js';

describe('file commands', () => {
  it('parses /send, /get and /cancel, with "quoted" paths', () => {
    expect(parseChatLine('/send bob "my report.pdf" photos')).toEqual({ kind: 'send', to: 'bob', paths: ['my report.pdf', 'photos'] });
    expect(parseChatLine('/get 3')).toEqual({ kind: 'get', id: 3, dir: undefined });
    expect(parseChatLine('/get 3 "/tmp/in box"')).toEqual({ kind: 'get', id: 3, dir: '/tmp/in box' });
    expect(parseChatLine('/cancel 12')).toEqual({ kind: 'cancel', id: 12 });
  });

  it('says how to use them when the arguments are wrong', () => {
    expect(parseChatLine('/send bob')).toEqual({ kind: 'error', message: 'usage: /send NAME PATH...' });
    expect(parseChatLine('/get')).toEqual({ kind: 'error', message: 'usage: /get ID [DIR]' });
    expect(parseChatLine('/get x')).toEqual({ kind: 'error', message: 'usage: /get ID [DIR]' });
    expect(parseChatLine('/get 0')).toEqual({ kind: 'error', message: 'usage: /get ID [DIR]' });
    expect(parseChatLine('/get 1 a b')).toEqual({ kind: 'error', message: 'usage: /get ID [DIR]' });
    expect(parseChatLine('/cancel 1 x')).toEqual({ kind: 'error', message: 'usage: /cancel ID' });
  });
});

describe('file events', () => {
  const files = [
    { id: 0, name: 'a\\x1b[31m.pdf', size: 1_234_567, mtime: 0, kind: 'file' as const },
    { id: 1, name: 'photos', size: 0, mtime: 0, kind: 'dir' as const },
  ];
  const offer: ChatFileEvent = { type: 'offer', offer: { id: 4, packetNo: 99, address: '10.0.0.2', port: 2425, from: 'bob', files, fetched: new Set() } };

  it('as JSON: network text as it came (JSON escapes it)', () => {
    expect(chatFileEventJson(offer)).toBe(
      '{"event":"offer","id":4,"from":{"name":"bob","address":"10.0.0.2"},"packet":99,"files":[{"name":"a\\\\x1b[31m.pdf","size":1234567,"kind":"file"},{"name":"photos","size":0,"kind":"dir"}]}',
    );
    expect(chatFileEventJson({ type: 'failed', id: 3, name: 'a.bin', reason: 'cut', bytes: 10 })).toBe('{"event":"failed","id":3,"name":"a.bin","reason":"cut","bytes":10}');
    expect(chatFileEventJson({ type: 'refused', reason: 'busy', address: '10.0.0.9' })).toBeUndefined();
  });

  it('as terminal lines: names made safe, sizes, rate and time left', () => {
    const withEsc: ChatFileEvent = { type: 'offer', offer: { ...(offer as Extract<ChatFileEvent, { type: 'offer' }>).offer, files: [{ ...files[0]!, name: 'a\x1b[31m.pdf' }] } };
    expect(formatChatFileEvent(withEsc)).toBe('* [4] bob offers a\\x1b[31m.pdf (1.2 MB): /get 4 [DIR] to fetch, /cancel 4 to decline');
    expect(formatChatFileEvent({ type: 'progress', id: 1, name: 'a.bin', bytes: 5e6, total: 2e7, rate: 5e6 })).toBe('* [1] a.bin: 5.0 MB of 20.0 MB, 5.0 MB/s, 0:03 left');
    expect(formatChatFileEvent({ type: 'failed', id: 1, name: 'a.bin', reason: 'connection closed', bytes: 5e6 })).toBe('* [1] a.bin FAILED after 5.0 MB: connection closed (/get 1 again continues)');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_500_000_000)).toBe('1.5 GB');
  });

  it('the summary line', () => {
    expect(
      formatFileSummary({ offered: 2, served: 2, received: 1, failed: 0, refused: { unoffered: 1, rateLimited: 0, busy: 0, malformed: 1, unsafe: 1 }, unsafeNames: 1 }),
    ).toBe('files offered 2, served 2, received 1, failed 0; refused 3 (unoffered 1, rate-limited 0, busy 0, malformed 1, unsafe 1); unsafe names 1');
    // Shown only when something happened with files: one refused request is enough.
    const none = { offered: 0, served: 0, received: 0, failed: 0, refused: { unoffered: 0, rateLimited: 0, busy: 0, malformed: 0, unsafe: 0 }, unsafeNames: 0 };
    expect(anyFileActivity(none)).toBe(false);
    expect(anyFileActivity({ ...none, refused: { ...none.refused, busy: 1 } })).toBe(true);
    expect(anyFileActivity({ ...none, unsafeNames: 1 })).toBe(true);
  });
});
