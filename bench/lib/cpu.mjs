// CPU per datagram from GNU time's user and system seconds, and what a difference in it means.
import { fixed, median } from './stats.mjs';

/** Median user, system and total CPU microseconds per datagram over runs ({ time, n }). */
export function cpuPerDatagram(runs) {
  const per = (pick) => median(runs.map((r) => (r.time && r.n > 0 ? (pick(r.time) * 1e6) / r.n : NaN)));
  return { user: per((t) => t.user), sys: per((t) => t.sys), total: per((t) => t.user + t.sys) };
}

/** "4.44 µs (user 2.90, system 1.54)". */
export function cpuText(c) {
  return `${fixed(c.total, 2)} µs (user ${fixed(c.user, 2)}, system ${fixed(c.sys, 2)})`;
}

/**
 * Where `mine` spends more than `ref`: in user space (its own code) or in the kernel (more or
 * costlier system calls for the same datagrams).
 */
export function excessText(mine, ref, refName) {
  const du = mine.user - ref.user;
  const ds = mine.sys - ref.sys;
  if (!Number.isFinite(du) || !Number.isFinite(ds)) return '';
  const diff = (d, what) => `${fixed(Math.abs(d), 2)} µs ${d >= 0 ? 'more' : 'less'} ${what} time per datagram`;
  if (du + ds <= 0) return `That is ${fixed(-(du + ds), 2)} µs less per datagram than ${refName} (${diff(du, 'user')}, ${diff(ds, 'system')}).`;
  // System time is not only system calls: page faults, and waking whoever reads the output,
  // count there too (the number of calls per datagram was measured to be no higher than the
  // C printer's at the same rate), so this names where the time went, not why.
  const where = du >= ds
    ? `most of it user-space work (${diff(du, 'user')} than ${refName}, ${diff(ds, 'system')})`
    : `most of it in the kernel (${diff(ds, 'system')} than ${refName}, ${diff(du, 'user')})`;
  return `The excess is ${fixed(du + ds, 2)} µs per datagram, ${where}.`;
}

/**
 * What a receiver's CPU use says about its losses: `cores` it used while receiving, `need` to
 * keep up at the offered rate, next to the sender's `senderCores` and other processes'
 * `othersCores` (averaged over the whole test, so a lower bound during the blast) on `nproc`.
 */
export function headroomText({ cores, need, senderCores, othersCores, nproc }) {
  const left = nproc - senderCores - othersCores;
  const head = `It used ${fixed(cores, 2)} cores during the blast (its CPU-seconds from the start of the blast to its end, over that time); keeping up would take ${fixed(need, 2)}. ` +
    `The sender kept ${fixed(senderCores, 2)} cores busy (on loopback its system time includes delivery into the receiver's socket) and ` +
    `other processes on the machine at least ${fixed(othersCores, 2)}, leaving ${fixed(Math.max(left, 0), 2)} of ${nproc}.`;
  if (cores >= 0.9 && need > 1) {
    return `${head} It ran at about one core, saturated, and keeping up needs more: its cost per datagram is the limit.`;
  }
  if (need > left) {
    return `${head} That is less than keeping up needs: the CPU left next to the sender${othersCores >= 0.1 ? ' and the other processes' : ''} is the limit at this cost per datagram.`;
  }
  if (need > cores * 1.1) {
    return `${head} It used less CPU than keeping up needs while CPU was free: it spent time waiting (blocked output, or ` +
      'descheduled) instead of reading.';
  }
  return `${head} On average the CPU sufficed, so the losses come from pauses: stretches when the receiver did not run (other ` +
    'processes, garbage collection, blocked output) longer than its receive buffer covers.';
}
