import { UserError } from '../errors.js';

/** A place held for a request that passed its checks but is not a queued job yet. */
export interface Reservation {
  /** Gives the place back (idempotent): the job was submitted, or the request failed. */
  release(): void;
}

interface Held {
  readonly guildId: string | null;
  readonly at: number;
}

/**
 * The per-user places of requests between their checks and their submission — a remix downloads and decodes
 * its picture in between, which takes seconds. The per-user limit and the cooldown count these places as jobs,
 * so requests sent together cannot all pass the checks before the first of them is queued.
 */
export class RequestReservations {
  readonly #byUser = new Map<string, Set<Held>>();

  /** Places the user holds (in any server). */
  heldBy(userId: string): number {
    return this.#byUser.get(userId)?.size ?? 0;
  }

  /** When the user's latest place in this server (`null`: direct messages) was taken, if they hold one. */
  latestIn(guildId: string | null, userId: string): number | undefined {
    let latest: number | undefined;
    for (const held of this.#byUser.get(userId) ?? []) {
      if (held.guildId === guildId && (latest === undefined || held.at > latest)) latest = held.at;
    }
    return latest;
  }

  /** Takes a place for the user; the caller has checked the limits, counting the places already held. */
  reserve(guildId: string | null, userId: string, now: number = Date.now()): Reservation {
    const held: Held = { guildId, at: now };
    let places = this.#byUser.get(userId);
    if (!places) this.#byUser.set(userId, (places = new Set()));
    places.add(held);
    return {
      release: () => {
        const current = this.#byUser.get(userId);
        if (!current?.delete(held)) return;
        if (current.size === 0) this.#byUser.delete(userId);
      },
    };
  }
}

/**
 * A fixed number of slots for work that takes a lot of memory while it runs (downloading and decoding remix
 * pictures: a 4096² picture is 48 MiB of pixels before sharp's own buffers). Beyond that many at once, requests
 * are refused rather than queued, so memory stays bounded however many arrive.
 */
export class WorkSlots {
  #inUse = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** Slots taken now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Takes a slot, or throws `busy` when all are taken; the returned function gives it back (idempotent). */
  take(busy: () => UserError): () => void {
    if (this.#inUse >= this.capacity) throw busy();
    this.#inUse++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
    };
  }
}

/** `attachment.busy`: every download slot is taken. */
export function downloadsBusy(): UserError {
  return new UserError('attachment.busy', "I'm busy fetching other people's pictures right now. Please try again in a moment.");
}
