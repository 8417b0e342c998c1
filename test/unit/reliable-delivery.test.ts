import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeReliableFrame } from '../../src/protocol/reliable-frames.js';
import { ReliableReceiver } from '../../src/protocol/reliable-receiver.js';
import { ReliableSender, type ReliableSenderEvent } from '../../src/protocol/reliable-sender.js';
import { Link, Simulation, sessionId, simSender, type Fate, type SimSender } from './reliable-sim.js';

/** Mostly one copy, often none, sometimes two or three, each after up to 500 ms. */
const fate: fc.Arbitrary<Fate> = fc.record({
  copies: fc.oneof({ arbitrary: fc.constant(1), weight: 5 }, { arbitrary: fc.constant(0), weight: 3 }, fc.integer({ min: 2, max: 3 })),
  delay: fc.integer({ min: 0, max: 500 }),
  spread: fc.integer({ min: 0, max: 300 }),
});
/** A lossy script, then a link that still delays and reorders but no longer loses: it eventually delivers. */
const link = fc
  .tuple(fc.array(fate, { maxLength: 300, size: 'max' }), fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 20 }))
  .map(([script, delays]) => new Link(script, (i) => ({ copies: 1, delay: delays[i % delays.length] as number, spread: 0 })));
const payloads = fc.array(fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)), { maxLength: 120, size: 'max' });

const hex = (b: Buffer): string => b.toString('hex');
const ackedSeqs = (events: readonly ReliableSenderEvent[]): number[] => events.flatMap((e) => (e.type === 'acked' ? [e.seq] : []));
const dataSeq = (d: Buffer): number => {
  const f = decodeReliableFrame(d);
  return f?.kind === 'data' ? f.seq : NaN;
};

describe('reliable delivery over a lossy, duplicating, reordering link', () => {
  it('delivers exactly what each sender sent, in order, each once; every sender ends done with all acked', () => {
    const senderSpec = fc.record({ payloads, toReceiver: link, toSender: link, window: fc.integer({ min: 1, max: 80 }) });
    // Room for none to a few held messages (each costs its payload plus 512 bytes).
    const limits = fc.record({ maxBuffered: fc.integer({ min: 0, max: 100 }), maxBufferedBytes: fc.integer({ min: 0, max: 2000 }) });
    fc.assert(
      fc.property(fc.array(senderSpec, { minLength: 1, maxLength: 3 }), limits, (specs, limit) => {
        // Timeouts are out of the way here (they have their own tests): this is order and exactly-once.
        const receiver = new ReliableReceiver({ ...limit, sessionIdleMs: 2e9 });
        // Senders 0 and 2 share a peer address with distinct session ids: they must be kept apart.
        const senders = specs.map((spec, i) =>
          simSender(`peer${i % 2}`, new ReliableSender({ sessionId: sessionId(i), window: spec.window, ackTimeoutMs: 1e9 }), spec.payloads, spec.toReceiver, spec.toSender),
        );
        const sim = new Simulation(receiver, senders);
        sim.onStep = () => checkWindow(senders);
        sim.run();
        for (const s of senders) {
          expect(s.sender.state).toBe('done');
          expect(ackedSeqs(s.events)).toEqual(s.messages.map((_, seq) => seq));
          expect(s.delivered.map(hex)).toEqual(s.messages.map(hex));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never puts a message on the wire beyond `window` after the oldest unacknowledged', () => {
    fc.assert(
      fc.property(payloads, link, link, fc.integer({ min: 1, max: 16 }), (messages, toReceiver, toSender, window) => {
        const s = simSender('p', new ReliableSender({ sessionId: sessionId(1), window, ackTimeoutMs: 1e9 }), messages, toReceiver, toSender);
        const sim = new Simulation(new ReliableReceiver({ sessionIdleMs: 2e9 }), [s]);
        sim.onStep = () => checkWindow([s]);
        sim.run();
        expect(s.delivered.map(hex)).toEqual(messages.map(hex));
      }),
    );
  });

  it('gives up on a link that drops everything, after ackTimeoutMs without a new ACK', () => {
    const drop = new Link([], () => ({ copies: 0, delay: 0, spread: 0 }));
    const messages = Array.from({ length: 100 }, (_, i) => Buffer.from(String(i)));
    const s = simSender('p', new ReliableSender({ sessionId: sessionId(1) }), messages, drop);
    const sim = new Simulation(new ReliableReceiver(), [s]);
    sim.run();
    expect(sim.now).toBe(10_000);
    expect(s.events).toEqual([{ type: 'failed', seqs: Array.from({ length: 64 }, (_, i) => i), reason: 'timeout' }]);
  });

  it('moves 10,000 messages through a perfect link without anything quadratic', () => {
    for (const window of [64, 4096]) {
      const messages = Array.from({ length: 10_000 }, (_, i) => Buffer.from(`message ${i}`));
      const sender = new ReliableSender({ sessionId: sessionId(1), window });
      const receiver = new ReliableReceiver({ maxBuffered: window });
      const delivered: Buffer[] = [];
      let pushed = 0;
      const started = performance.now();
      for (let now = 0; sender.state !== 'done'; now++) {
        while (pushed < messages.length && sender.canPush()) sender.push(messages[pushed++] as Buffer);
        if (pushed === messages.length) sender.finish();
        for (const d of sender.pollTransmit(now)) {
          const r = receiver.handleDatagram(d, { address: 'p', port: 1 }, now);
          delivered.push(...(r?.deliver ?? []));
          if (r?.ack) sender.handleDatagram(r.ack, now);
        }
        sender.pollEvents();
      }
      const elapsed = performance.now() - started;
      expect(delivered.length).toBe(messages.length);
      expect(delivered.every((d, i) => d.equals(messages[i] as Buffer))).toBe(true);
      expect(sender.retransmissions).toBe(0);
      console.log(`10,000 messages, window ${window}: ${elapsed.toFixed(0)} ms`);
    }
  });
});

const checked = new WeakMap<SimSender, number>();

/** Every DATA sent since the last check is below (lowest seq not yet acknowledged) + window. */
function checkWindow(senders: readonly SimSender[]): void {
  for (const s of senders) {
    const base = s.events.filter((e) => e.type === 'acked').length;
    for (let i = checked.get(s) ?? 0; i < s.sent.length; i++) {
      const seq = dataSeq((s.sent[i] as { datagram: Buffer }).datagram);
      if (!(seq < base + s.sender.window)) throw new Error(`seq ${seq} sent with ${base} acknowledged, window ${s.sender.window}`);
    }
    checked.set(s, s.sent.length);
    if (s.sender.unacked > s.sender.window) throw new Error('more unacknowledged than the window');
  }
}
