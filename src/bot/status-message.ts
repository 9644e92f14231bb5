import type { Message } from 'discord.js';
import type { Failure } from '../errors.js';
import type { Delivery, FinishedJob, JobObserver } from '../jobs/job-observer.js';
import type { StepProgress } from '../pipeline/stable-diffusion.js';
import type { JobRecord } from '../store/index.js';
import { cancelButton } from './buttons.js';
import type { BotContext } from './context.js';
import { progressText, queuedText } from './messages.js';
import { ThrottledEditor } from './throttled-editor.js';

/** What a status message shows while its job waits or runs. */
export type StatusPayload = { content: string; components: ReturnType<typeof cancelButton> };

/**
 * What every Discord-facing observer shares: one status message kept up to date through a throttled editor
 * (queue position, then steps, with a Cancel button), remembered in the job's record. Subclasses decide how
 * that message is edited and how the result or failure is delivered.
 */
export abstract class StatusMessageObserver implements JobObserver {
  protected readonly editor: ThrottledEditor<StatusPayload>;
  private jobId: string | undefined;
  private statusMessageStored = false;

  /** @param edit - Shows a payload in the status message and returns that message (undefined when it did not edit). */
  constructor(
    protected readonly context: BotContext,
    edit: (payload: StatusPayload) => Promise<Message | undefined>,
    onEditError: (error: unknown) => void,
  ) {
    this.editor = new ThrottledEditor<StatusPayload>(
      async (payload) => this.storeStatusMessage(await edit(payload)),
      context.config.progress.editIntervalMs,
      onEditError,
    );
  }

  queued(position: number, record: JobRecord, expectedWaitMs?: number): void {
    this.jobId = record.id;
    this.editor.show({ content: queuedText(record, position, expectedWaitMs), components: cancelButton(record) });
  }

  started(record: JobRecord): void {
    this.jobId = record.id;
    this.editor.show({ content: progressText(record, 0, record.steps, 0), components: cancelButton(record) });
  }

  progress(progress: StepProgress, record: JobRecord): void {
    this.editor.show({
      content: progressText(record, progress.step, progress.totalSteps, progress.elapsedMs),
      components: cancelButton(record),
    });
  }

  /**
   * Remembers the status message in the job's record once: if the process dies, the next start marks that
   * message interrupted instead of leaving a progress bar (and a Cancel button) that never moves again.
   */
  private storeStatusMessage(message: Message | undefined): void {
    if (this.statusMessageStored || message === undefined || this.jobId === undefined) return;
    this.statusMessageStored = true;
    this.context.store.updateJob(this.jobId, { statusMessageId: message.id });
  }

  abstract deliver(job: FinishedJob): Promise<Delivery>;
  abstract failed(failure: Failure, record: JobRecord): Promise<void>;
}
