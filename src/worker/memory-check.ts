import { freemem, totalmem } from 'node:os';
import { byteSize } from '../byte-size.js';
import { UserError } from '../errors.js';
import type { ModelFolder } from '../model/model-folder.js';
import type { ModelSession, SessionUsage } from '../pipeline/model-session.js';

/** The memory the pipeline process may use, in bytes. */
export interface MachineMemory {
  /** What can be allocated without swapping: Linux's MemAvailable (`os.freemem()`), within a cgroup limit. */
  readonly availableBytes: number;
  /** Physical memory, or the cgroup (container) limit when that is lower. */
  readonly totalBytes: number;
}

/** This machine's memory as Node sees it; a container's cgroup limit counts as its total. */
export function machineMemory(): MachineMemory {
  const total = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  const limit = constrained > 0 && constrained < total ? constrained : total;
  const usedByUs = process.memoryUsage().rss;
  // Inside a cgroup, what is free on the host is not ours: the limit minus what this process holds is.
  const available = limit < total ? Math.min(freemem(), Math.max(0, limit - usedByUs)) : freemem();
  return { availableBytes: available, totalBytes: limit };
}

/** Memory of the process itself (Node, onnxruntime's code and arenas) before any weights. */
const baseBytes = 256 * 1024 ** 2;

/**
 * What a folder needs on the CPU, estimated from its files' sizes before anything loads: the weights once in memory,
 * a fifth more for onnxruntime's pre-packed copies of convolution and matrix weights, a quarter for the working memory
 * of a UNet step (activations grow with the model: over 1 GB per latent row for SD 1.5 at 512²), and 256 MiB for the
 * process. SD 1.5 fp32 (about 4.3 GB of files) comes to about 6 GiB, SDXL fp32 (about 13.9 GB) to about 19 GiB.
 */
export function estimateCpuMemoryBytes(weightBytes: number): number {
  return Math.ceil(weightBytes * 1.45) + baseBytes;
}

/**
 * Says before loading how much memory the folder needs on the CPU and refuses clearly (`model.notEnoughMemory`)
 * when the machine cannot give it: an SDXL folder in fp32 does not fit in 16 GB, and loading it anyway ends in swap
 * or the kernel's out-of-memory killer, not in an error anyone can read.
 */
export function checkCpuMemory(
  folder: ModelFolder,
  memory: MachineMemory,
  log?: (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) => void,
): void {
  const needBytes = estimateCpuMemoryBytes(folder.weightBytes);
  log?.(
    'info',
    `${folder.name}: ${byteSize(folder.weightBytes)} of graphs and weights; on the CPU it needs about ${byteSize(needBytes)} of memory ` +
      `(${byteSize(memory.availableBytes)} available of ${byteSize(memory.totalBytes)})`,
    { weightBytes: folder.weightBytes, needBytes, availableBytes: memory.availableBytes, totalBytes: memory.totalBytes },
  );
  if (needBytes <= memory.availableBytes) return;
  const xl = folder.family === 'stable-diffusion-xl';
  throw new UserError(
    'model.notEnoughMemory',
    `${folder.dir} needs about ${byteSize(needBytes)} of memory to run on the CPU (its graphs and weights are ${byteSize(folder.weightBytes)}), ` +
      `but only ${byteSize(memory.availableBytes)} of ${byteSize(memory.totalBytes)} ${needBytes <= memory.totalBytes ? 'is free now (close other programs or' : 'is there (use'} ` +
      `a machine with more memory), or run ${xl ? 'an fp16 SDXL folder on a CUDA GPU (LATENTCORD_DEVICE=cuda)' : 'on a CUDA GPU (LATENTCORD_DEVICE=cuda)'}, ` +
      `or choose a smaller model${xl ? ' (an SD 1.5 folder needs about 6 GiB)' : ''}.`,
  );
}

/** A session loader that knows the device it loads on (the runtime's SessionFactory). */
export interface DeviceSessionLoader {
  readonly device: 'cpu' | 'cuda';
  load(path: string, usage?: SessionUsage): Promise<ModelSession>;
}

/**
 * Wraps a session loader so the folder's memory is checked once, before the first graph loads on the CPU: at once
 * when the CPU was configured, or right after a CUDA fallback turned the first session into a CPU one.
 */
export function memoryCheckedLoader(
  folder: ModelFolder,
  sessions: DeviceSessionLoader,
  options: { readonly memory?: () => MachineMemory; readonly log?: Parameters<typeof checkCpuMemory>[2] } = {},
): (path: string, usage?: SessionUsage) => Promise<ModelSession> {
  let checked = false;
  const checkOnCpu = () => {
    if (checked || sessions.device !== 'cpu') return;
    checked = true;
    checkCpuMemory(folder, (options.memory ?? machineMemory)(), options.log);
  };
  return async (path, usage) => {
    checkOnCpu();
    const session = await sessions.load(path, usage);
    try {
      checkOnCpu();
    } catch (error) {
      await session.release();
      throw error;
    }
    return session;
  };
}
