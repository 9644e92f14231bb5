import type { Message } from 'discord.js';
import type { Failure } from '../errors.js';
import { encodePreviewJpeg } from '../image/index.js';
import type { Delivery, FinishedJob, JobObserver, LivePreview } from '../jobs/job-observer.js';
import type { StepProgress } from '../pipeline/stable-diffusion.js';
import type { JobRecord } from '../store/index.js';
import { cancelButton } from './buttons.js';
import type { BotContext } from './context.js';
import { progressText, queuedText } from './messages.js';
import { ThrottledEditor } from './throttled-editor.js';

/** A live preview as uploaded: one JPEG of the job's pictures. */
interface PreviewFile {
  readonly attachment: Buffer;
  readonly name: string;
}

/**
 * What a status message shows while its job waits or runs; `files` carries a new live preview, which replaces
 * the previous one (an edit without files keeps the attachment the message has).
 */
export type StatusPayload = { content: string; components: ReturnType<typeof cancelButton>; files?: PreviewFile[] };

/**
 * What every Discord-facing observer shares: one status message kept up to date through a throttled editor
 * (queue position, then steps, with a Cancel button), remembered in the job's record. Subclasses decide how
 * that message is edited and how the result or failure is delivered.
 */
export abstract class StatusMessageObserver implements JobObserver {
  protected readonly editor: ThrottledEditor<StatusPayload>;
  private jobId: string | undefined;
  private statusMessageStored = false;
  /** The newest preview not yet shown: every edit carries it until one succeeds (the editor drops older payloads). */
  private unsentPreview: PreviewFile | undefined;
  /** The text the status message shows now, which a preview arriving between two steps keeps. */
  private lastContent = '';

  /** @param edit - Shows a payload in the status message and returns that message (undefined when it did not edit). */
  constructor(
    protected readonly context: BotContext,
    edit: (payload: StatusPayload) => Promise<Message | undefined>,
    onEditError: (error: unknown) => void,
  ) {
    this.editor = new ThrottledEditor<StatusPayload>(
      async (payload) => {
        const message = await edit(payload);
        if (message !== undefined && payload.files?.[0] === this.unsentPreview) this.unsentPreview = undefined;
        this.storeStatusMessage(message);
      },
      context.config.progress.editIntervalMs,
      onEditError,
    );
  }

  /** Shows `content` with the Cancel button, and the newest preview if it has not been shown yet. */
  private show(content: string, record: JobRecord): void {
    this.lastContent = content;
    this.editor.show({ content, components: cancelButton(record), ...(this.unsentPreview ? { files: [this.unsentPreview] } : {}) });
  }

  queued(position: number, record: JobRecord, expectedWaitMs?: number): void {
    this.jobId = record.id;
    this.show(queuedText(record, position, expectedWaitMs), record);
  }

  started(record: JobRecord): void {
    this.jobId = record.id;
    this.show(progressText(record, 0, record.steps, 0), record);
  }

  progress(progress: StepProgress, record: JobRecord): void {
    this.show(progressText(record, progress.step, progress.totalSteps, progress.elapsedMs), record);
  }

  /**
   * Encodes the preview (off the pipeline's path: the steps go on meanwhile) and shows it with the current
   * text in the next edit the throttle allows. A preview that cannot be encoded is logged and skipped.
   */
  preview(preview: LivePreview, record: JobRecord): void {
    encodePreviewJpeg(preview.images, { width: record.width, height: record.height }).then(
      (jpeg) => {
        this.unsentPreview = { attachment: jpeg, name: `preview-${record.id.slice(0, 8)}-step${preview.step}.jpg` };
        this.show(this.lastContent || progressText(record, preview.step, preview.totalSteps, 0), record);
      },
      (error: unknown) => this.context.logger.warn({ err: error, job: record.id }, 'could not encode a live preview'),
    );
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
