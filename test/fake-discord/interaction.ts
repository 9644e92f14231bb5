import { EventEmitter } from 'node:events';
import { scaled } from '../helpers/time-scale.js';
import type { ApiMessage, Snowflake } from './api-types.js';

/** Common fields of every {@link InteractionStep}. */
interface StepBase {
  /** When it happened (ms since the Unix epoch). */
  at: number;
  /** Milliseconds since the interaction was dispatched. */
  elapsedMs: number;
}

/** Something the bot did (or tried to do) with an interaction, in the order the fake saw it. */
export type InteractionStep =
  /** An accepted `POST /interactions/{id}/{token}/callback`. */
  | (StepBase & { kind: 'callback'; type: number; data: unknown })
  /** A refused callback (late: 10062, second one: 40060, invalid type or body: 50035...). */
  | (StepBase & { kind: 'callbackRejected'; type: number | null; status: number; code: number; message: string })
  /** The original response (or, after type 6/7, the component's message) was edited. */
  | (StepBase & { kind: 'originalEdited'; message: ApiMessage })
  | (StepBase & { kind: 'originalDeleted'; messageId: Snowflake })
  /**
   * A follow-up was created. After a type-5 deferral the first follow-up fills the original "thinking"
   * message instead of creating a new one (`filledOriginal: true`, `message.id` is the original's).
   */
  | (StepBase & { kind: 'followUp'; message: ApiMessage; filledOriginal: boolean })
  | (StepBase & { kind: 'followUpEdited'; message: ApiMessage })
  | (StepBase & { kind: 'followUpDeleted'; messageId: Snowflake })
  /** A webhook call with this interaction's token that was refused (expired token 50027, ...). */
  | (StepBase & { kind: 'webhookRejected'; method: string; route: string; status: number; code: number; message: string });

/** The accepted callback step. */
export type CallbackStep = Extract<InteractionStep, { kind: 'callback' }>;

/** Everything the fake remembers of one interaction. */
export interface InteractionRecord {
  id: Snowflake;
  token: string;
  type: number;
  applicationId: Snowflake;
  channelId: Snowflake;
  guildId: Snowflake | null;
  userId: Snowflake;
  /** The INTERACTION_CREATE `d` as dispatched. */
  payload: Record<string, unknown>;
  dispatchedAt: number;
  /** Callbacks after this time fail with 10062. */
  ackDeadline: number;
  /** Webhook calls after this time fail with 50027. */
  tokenExpiresAt: number;
  attachmentSizeLimit: number;
  /** For component interactions (and modals opened from one): the message the component is on. */
  sourceMessageId: Snowflake | null;
  /** The command name (commands and autocomplete) for message metadata. */
  commandName: string | null;
  /** 20 for chat input commands, 23 for context menu commands, 0 otherwise: the type of the response message. */
  responseMessageType: number;
  ack: { type: number; at: number; data: unknown } | null;
  /** The message `@original` refers to, once there is one. */
  originalMessageId: Snowflake | null;
  /** True between a type-5 deferral and the first edit or follow-up. */
  loading: boolean;
  /** Messages only this interaction knows: ephemeral responses and follow-ups. */
  ephemeralMessages: Map<Snowflake, ApiMessage>;
  followUpIds: Snowflake[];
  steps: InteractionStep[];
  emitter: EventEmitter;
}

/** Records a step and wakes whoever waits for one. */
export function recordStep(record: InteractionRecord, step: DistributiveOmit<InteractionStep, 'at' | 'elapsedMs'>): InteractionStep {
  const at = Date.now();
  const full = { ...step, at, elapsedMs: at - record.dispatchedAt } as InteractionStep;
  record.steps.push(full);
  record.emitter.emit('step', full);
  return full;
}

/** `Omit` that keeps a union a union. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Options of the waiting methods. */
export interface WaitOptions {
  /**
   * Give up (reject) after this long on a quiet machine (default {@link defaultWaitMs}); stretched by the e2e
   * time scale (`test/helpers/time-scale.ts`).
   */
  timeoutMs?: number;
}

/** The budget of a wait that names none: a quick answer of the bot, on a quiet machine. */
export const defaultWaitMs = 10_000;

/**
 * The test's view of one interaction it sent: what the bot answered, when, and the current state of the
 * original response and follow-ups. Waiting methods also look at what already happened, so it does not
 * matter whether the bot was faster than the test.
 */
export class InteractionHandle {
  constructor(
    private readonly record: InteractionRecord,
    private readonly lookupMessage: (id: Snowflake) => ApiMessage | undefined,
    private readonly control: { expireToken(): void; expireAcknowledgement(): void },
  ) {}

  /** The interaction id. */
  get id(): Snowflake {
    return this.record.id;
  }

  /** The interaction token (as the bot received it). */
  get token(): string {
    return this.record.token;
  }

  /** The INTERACTION_CREATE payload (`d`) as dispatched to the bot. */
  get payload(): Readonly<Record<string, unknown>> {
    return this.record.payload;
  }

  /** When the interaction was dispatched (ms since the Unix epoch). */
  get dispatchedAt(): number {
    return this.record.dispatchedAt;
  }

  /** Every step so far, oldest first. */
  get steps(): readonly InteractionStep[] {
    return this.record.steps;
  }

  /** The accepted callback, or null while the interaction is unacknowledged. */
  get response(): CallbackStep | null {
    return (this.record.steps.find((s) => s.kind === 'callback') as CallbackStep | undefined) ?? null;
  }

  /** The modal the bot opened (callback type 9), or null. */
  get modal(): { custom_id: string; title: string; components: unknown[] } | null {
    const response = this.response;
    return response?.type === 9 ? (response.data as { custom_id: string; title: string; components: unknown[] }) : null;
  }

  /** The current state of the `@original` message, or null if there is none (yet) or it was deleted. */
  original(): ApiMessage | null {
    const id = this.record.originalMessageId;
    if (id === null) return null;
    return this.record.ephemeralMessages.get(id) ?? this.lookupMessage(id) ?? null;
  }

  /**
   * The current state of the follow-up messages, oldest first (deleted ones left out). A follow-up that
   * filled a deferred original is the original, not listed here.
   */
  followUps(): ApiMessage[] {
    return this.record.followUpIds
      .map((id) => this.record.ephemeralMessages.get(id) ?? this.lookupMessage(id))
      .filter((m): m is ApiMessage => m !== undefined);
  }

  /** Resolves with the first step (past or future) matching `predicate`. */
  waitFor(predicate: (step: InteractionStep) => boolean, options: WaitOptions = {}): Promise<InteractionStep> {
    const found = this.record.steps.find(predicate);
    if (found) return Promise.resolve(found);
    const timeoutMs = scaled(options.timeoutMs ?? defaultWaitMs);
    return new Promise((resolve, reject) => {
      const onStep = (step: InteractionStep): void => {
        if (!predicate(step)) return;
        clearTimeout(timer);
        this.record.emitter.off('step', onStep);
        resolve(step);
      };
      const timer = setTimeout(() => {
        this.record.emitter.off('step', onStep);
        reject(new Error(`interaction ${this.record.id}: no matching step within ${timeoutMs} ms; steps so far: ${this.describeSteps()}`));
      }, timeoutMs);
      this.record.emitter.on('step', onStep);
    });
  }

  /** Resolves with the accepted callback (type and data). */
  async waitForResponse(options: WaitOptions = {}): Promise<CallbackStep> {
    return (await this.waitFor((s) => s.kind === 'callback', options)) as CallbackStep;
  }

  /** Resolves with the `@original` message once it satisfies `predicate` (checked now and after every step). */
  waitForOriginal(predicate: (message: ApiMessage) => boolean = () => true, options: WaitOptions = {}): Promise<ApiMessage> {
    const check = (): ApiMessage | null => {
      const original = this.original();
      return original && predicate(original) ? original : null;
    };
    return this.waitFor(() => check() !== null, options).then(() => {
      const original = check() ?? this.original();
      if (!original) throw new Error(`interaction ${this.record.id}: the original message disappeared`);
      return original;
    });
  }

  /** Resolves with the first follow-up message (past or future) satisfying `predicate`. */
  async waitForFollowUp(predicate: (message: ApiMessage) => boolean = () => true, options: WaitOptions = {}): Promise<ApiMessage> {
    const step = await this.waitFor((s) => s.kind === 'followUp' && predicate(s.message), options);
    return (step as Extract<InteractionStep, { kind: 'followUp' }>).message;
  }

  /** Makes the token expire now: later webhook calls fail with 50027. */
  expireToken(): void {
    this.control.expireToken();
  }

  /** Closes the acknowledgement window now: a callback fails with 10062. */
  expireAcknowledgement(): void {
    this.control.expireAcknowledgement();
  }

  /** A one-line summary of the steps (for failure messages). */
  describeSteps(): string {
    if (this.record.steps.length === 0) return '(none)';
    return this.record.steps
      .map((s) => {
        switch (s.kind) {
          case 'callback':
            return `+${s.elapsedMs}ms callback type ${s.type}`;
          case 'callbackRejected':
          case 'webhookRejected':
            return `+${s.elapsedMs}ms ${s.kind} ${s.status}/${s.code}`;
          default:
            return `+${s.elapsedMs}ms ${s.kind}`;
        }
      })
      .join(', ');
  }
}
