/**
 * Absence ("away") in IP Messenger (docs/protocol.md, "Absence and sealed messages"): while
 * away, every entry packet (BR_ENTRY, ANSENTRY, and the BR_ABSENCE broadcast when it changes)
 * carries ABSENCEOPT, a message sent to us alone gets one automatic answer, the absence text,
 * marked AUTORETOPT, and GETABSENCEINFO is answered with that text. A message marked
 * AUTORETOPT is never answered automatically: two absent clients answer each other once, not
 * forever. Pure state.
 */
import { IpmsgOption as Opt } from './ipmsg-packet.js';

/** What SENDABSENCEINFO says when not away (the protocol description's wording). */
export const NOT_ABSENT_TEXT = 'Not absence mode';

/** The absence text when `/away` is given none. */
export const DEFAULT_AWAY_TEXT = 'I am away from my desk';

/**
 * This participant's absence.
 * @example
 * const a = new IpmsgAbsence();
 * a.set('at lunch');
 * a.autoReplyTo(IpmsgCommand.SENDMSG | IpmsgOption.SENDCHECKOPT) // true
 * a.autoReplyTo(IpmsgCommand.SENDMSG | IpmsgOption.AUTORETOPT)   // false: never answer an answer
 */
export class IpmsgAbsence {
  #text: string | undefined;

  get away(): boolean {
    return this.#text !== undefined;
  }

  /** The absence text, or `undefined` when present. */
  get text(): string | undefined {
    return this.#text;
  }

  /** Goes away with `text` (empty: {@link DEFAULT_AWAY_TEXT}), or comes back with `undefined`. */
  set(text: string | undefined): void {
    this.#text = text === undefined ? undefined : text || DEFAULT_AWAY_TEXT;
  }

  /** The option bits our entry packets carry now. */
  entryOptions(): number {
    return this.away ? Opt.ABSENCEOPT : 0;
  }

  /**
   * Whether a newly received SENDMSG with this CommandNo gets the automatic answer: only while
   * away, only a message to us alone or to a chosen few (an answer to every broadcast would
   * flood the LAN), and never an automatic answer itself.
   */
  autoReplyTo(command: number): boolean {
    return this.away && (command & (Opt.AUTORETOPT | Opt.BROADCASTOPT)) === 0;
  }

  /** What SENDABSENCEINFO carries. */
  info(): string {
    return this.#text ?? NOT_ABSENT_TEXT;
  }
}
