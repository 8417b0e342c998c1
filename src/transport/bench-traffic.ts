/**
 * The bench client's test traffic (docs/protocol.md, "Bench frames"): data frames, paced by a
 * token bucket on the nanosecond clock, or as fast as the socket takes them.
 *
 * Paced, the loop polls `process.hrtime` for the last part of each gap: a timer wakes up to a
 * millisecond late, which at 100,000/s is 100 datagrams' worth. A gap over {@link SLEEP_ABOVE_NS}
 * sleeps on a timer first, one over {@link BLOCK_ABOVE_NS} blocks in `Atomics.wait` (a futex:
 * measured here 75 µs late at the median, so it stops {@link BLOCK_MARGIN_NS} early), and the
 * rest is spun: at 100,000/s one core is busy, at 2,000/s it mostly sleeps. Each
 * datagram goes to the kernel alone, at once (`writeNow`); with `burst` > 1 a full bucket goes
 * out as one sendmmsg. Every {@link YIELD_EVERY_NS} the loop lets the event loop run (replies,
 * interval requests, Ctrl-C): that pause is the one gap the pacing cannot make even.
 *
 * Several streams (`-P`) share one loop and one bucket filling at N x rate, taking turns: one
 * spinning loop per stream on one thread would each stall the others for a whole slice.
 * (About 250 lines: the pacing loop, its sleep/block/spin tiers and the streams' turns are one
 * loop, and splitting it would put allocations back where the loop must have none.)
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { encodeBenchFrame, stampBenchData } from '../protocol/bench-frames.js';
import { GapStats, Pacer } from '../protocol/bench-pacer.js';
import type { DatagramSpans } from './sender.js';
import { milliseconds, nanoseconds, spinUntil } from './clock.js';

/** Datagrams written per event-loop turn at most unpaced, so replies and timers get their turn. */
const MAX_PER_TURN = 4096;
/**
 * Data frames stamped together and handed over as spans of one buffer: one sendmmsg on the
 * native socket, no object per datagram, one clock reading (they leave within microseconds).
 */
const SPAN_COUNT = 64;
/** Paced: the event loop gets a turn this often (ns). */
export const YIELD_EVERY_NS = 5_000_000;
/** Paced: a wait longer than this sleeps on a timer, waking a millisecond early. */
const SLEEP_ABOVE_NS = 2_000_000;
/** Paced: a wait longer than this blocks the thread in Atomics.wait, for all but the margin. */
const BLOCK_ABOVE_NS = 200_000;
const BLOCK_MARGIN_NS = 120_000;
/** What Atomics.wait waits on: nothing ever wakes it, its timeout ends it. */
const never = new Int32Array(new SharedArrayBuffer(4));

/**
 * Where data frames go: what the loop needs of a client's `Sender`. `writeNow` hands one
 * datagram over at once when it can; a datagram it could not (`inFlight` > 0 after it) is held
 * until sent, so its buffer must not be reused.
 */
export interface DataSink {
  writeNow(data: Buffer): boolean;
  readonly inFlight: number;
  writeSpans(spans: DatagramSpans): Promise<void>;
  flush(): Promise<void>;
}

/** Where one stream's data frames go. */
export interface TrafficStream {
  readonly sender: DataSink;
  readonly session: bigint;
}

/** One test's traffic. */
export interface TrafficPlan {
  readonly streams: readonly TrafficStream[];
  readonly length: number;
  readonly durationMs: number;
  /** Datagrams per second per stream; 0: as fast as the sockets take them. */
  readonly rate: number;
  /** Token bucket depth, datagrams (>= 1). */
  readonly burst: number;
  readonly signal?: AbortSignal | undefined;
  /** Called on the event loop at least every few milliseconds: ns since the start, datagrams sent per stream. */
  readonly tick?: (elapsedNs: number, sent: readonly number[]) => void;
}

/** What the traffic phase did, per stream. */
export interface TrafficResult {
  readonly sent: readonly number[];
  /** Microseconds the sending loop ran. */
  readonly sendUs: number;
  /** Gaps between one stream's sends as this clock saw them (a batch counts as one send). */
  readonly gaps: readonly { readonly count: number; readonly meanUs: number; readonly cv: number }[];
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Waits `wait` ns from `now` the way a pacing loop must: on a timer when long (true: the event
 * loop ran meanwhile), else blocked in Atomics.wait, else spinning on the clock, waking early
 * enough each time to spin the rest.
 * @example if (await waitNs(now, pacer.wait(), signal)) yieldAt = nanoseconds() + YIELD_EVERY_NS;
 */
export async function waitNs(now: number, wait: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (wait > SLEEP_ABOVE_NS) {
    await pause(wait / 1e6 - 1, signal);
    return true;
  }
  if (wait > BLOCK_ABOVE_NS) Atomics.wait(never, 0, 0, (wait - BLOCK_MARGIN_NS) / 1e6);
  // Not through the pacer and nanoseconds(): each reading would make a heap number.
  else if (wait > 0) spinUntil(now + wait);
  return false;
}

/** SPAN_COUNT copies of `template` back to back, as spans. */
function frameSpans(template: Buffer): { bytes: Buffer; starts: Uint32Array; ends: Uint32Array } {
  const n = template.length;
  const bytes = Buffer.allocUnsafe(n * SPAN_COUNT);
  const starts = new Uint32Array(SPAN_COUNT);
  const ends = new Uint32Array(SPAN_COUNT);
  for (let k = 0; k < SPAN_COUNT; k++) {
    template.copy(bytes, k * n);
    starts[k] = k * n;
    ends[k] = (k + 1) * n;
  }
  return { bytes, starts, ends };
}

/** Send stamps: whole microseconds since the epoch, read off the nanosecond clock. */
function epochStamp(): (ns: number) => number {
  const ns0 = nanoseconds();
  const epochUs0 = milliseconds() * 1000;
  return (ns) => Math.floor(epochUs0 + (ns - ns0) / 1000);
}

/**
 * Sends the test traffic until the duration is over or the signal aborts, then waits until the
 * kernel has every datagram.
 * @example const { sent, gaps } = await sendTraffic({ sender, session, length: 64, durationMs: 1000, rate: 20_000, burst: 1 });
 */
export async function sendTraffic(plan: TrafficPlan): Promise<TrafficResult> {
  const out = plan.rate > 0 ? await paced(plan) : await unpaced(plan);
  await Promise.all(plan.streams.map((s) => s.sender.flush()));
  return out;
}

/** One stream's state in the loop. */
interface Lane {
  readonly sender: DataSink;
  readonly template: Buffer;
  readonly gaps: GapStats;
  /** Frames stamped in place: one for single sends, spans for batches. */
  single: Buffer;
  readonly spans: ReturnType<typeof frameSpans>;
  seq: number;
}

interface Loop {
  readonly start: number;
  readonly end: number;
  readonly stamp: (ns: number) => number;
  readonly lanes: readonly Lane[];
  readonly length: number;
  last: number;
}

function begin(plan: TrafficPlan): Loop {
  const start = nanoseconds();
  const lanes = plan.streams.map((s): Lane => {
    const template = encodeBenchFrame({ kind: 'data', session: s.session, seq: 0, sentAt: 0, length: plan.length });
    return { sender: s.sender, template, gaps: new GapStats(), single: Buffer.from(template), spans: frameSpans(template), seq: 0 };
  });
  return { start, end: start + plan.durationMs * 1e6, stamp: epochStamp(), lanes, length: plan.length, last: start };
}

function finish(loop: Loop): TrafficResult {
  const sendUs = Math.round((Math.max(nanoseconds(), loop.last) - loop.start) / 1000);
  const gaps = loop.lanes.map(({ gaps: g }) => ({ count: g.count, meanUs: g.mean / 1000, cv: g.cv }));
  return { sent: loop.lanes.map((l) => l.seq), sendUs, gaps };
}

const sentOf = (loop: Loop): number[] => loop.lanes.map((l) => l.seq);

/**
 * `count` frames of `lane`, stamped now, in one sendmmsg; resolves once the kernel has them.
 * With `gso` (unpaced) the kernel gets them as one run to segment (DatagramSpans.gso): sending
 * then costs far less per datagram, so the receiving end is what gets measured.
 */
async function sendSpans(loop: Loop, lane: Lane, count: number, gso: boolean): Promise<void> {
  loop.last = nanoseconds();
  lane.gaps.note(loop.last);
  const sentAt = loop.stamp(loop.last);
  for (let k = 0; k < count; k++) stampBenchData(lane.spans.bytes, lane.seq++, sentAt, k * loop.length);
  await lane.sender.writeSpans({ ...lane.spans, count, gso });
}

/**
 * One frame of `lane` at `now`, to the kernel before this returns unless its socket is full;
 * false when the sender wants a flush first. Not async: a promise per datagram, at 100,000 a
 * second, kept the garbage collector busy enough to show in the gaps.
 */
function sendOne(loop: Loop, lane: Lane, now: number): boolean {
  lane.gaps.note(now);
  stampBenchData(lane.single, lane.seq++, loop.stamp(now));
  const room = lane.sender.writeNow(lane.single);
  // Still held by the sender (the socket was full): the next frame needs its own buffer.
  if (lane.sender.inFlight > 0) lane.single = Buffer.from(lane.template);
  return room;
}

async function unpaced(plan: TrafficPlan): Promise<TrafficResult> {
  const loop = begin(plan);
  const perLane = Math.max(SPAN_COUNT, Math.floor(MAX_PER_TURN / loop.lanes.length));
  while (!plan.signal?.aborted) {
    const now = nanoseconds();
    if (now >= loop.end) break;
    plan.tick?.(now - loop.start, sentOf(loop));
    for (const lane of loop.lanes) for (let n = 0; n < perLane; n += SPAN_COUNT) await sendSpans(loop, lane, SPAN_COUNT, true);
    await nextTurn();
  }
  return finish(loop);
}

async function paced(plan: TrafficPlan): Promise<TrafficResult> {
  const loop = begin(plan);
  const lanes = loop.lanes;
  const pacer = new Pacer({ rate: plan.rate * lanes.length, burst: plan.burst, nowNs: loop.start });
  let turn = 0;
  let yieldAt = loop.start;
  // A local, not loop.last, while sending one by one: see sendOne.
  let last = loop.start;
  while (!plan.signal?.aborted) {
    const now = nanoseconds();
    if (now >= loop.end) break;
    if (now >= yieldAt) {
      plan.tick?.(now - loop.start, sentOf(loop));
      await nextTurn();
      yieldAt = nanoseconds() + YIELD_EVERY_NS;
      continue;
    }
    const due = pacer.available(now);
    if (due === 0) {
      if (await waitNs(now, Math.min(pacer.wait(), loop.end - now), plan.signal)) yieldAt = nanoseconds() + YIELD_EVERY_NS;
      continue;
    }
    const lane = lanes[turn] as Lane;
    turn = (turn + 1) % lanes.length;
    if (due === 1) {
      pacer.take(1);
      if (!sendOne(loop, lane, now)) await lane.sender.flush();
      last = now;
    } else {
      // A full bucket in one sendmmsg; with several streams each takes its turn at a batch.
      const count = Math.min(due, SPAN_COUNT);
      await sendSpans(loop, lane, count, false);
      pacer.take(count);
      last = loop.last;
    }
  }
  loop.last = Math.max(loop.last, last);
  return finish(loop);
}
