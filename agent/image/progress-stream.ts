import type Docker from 'dockerode';

/** One JSON object of the engine's build or pull progress stream. */
export interface StreamEvent {
  stream?: string;
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Follows a progress stream to its end; resolves with the error it reported, if any. The engine
 * reports a failed build or pull inside a stream that otherwise ends normally.
 */
export function follow(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (e: StreamEvent) => void,
): Promise<string | undefined> {
  let failure: string | undefined;
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err) => (err ? reject(err) : resolve(failure)),
      (e: StreamEvent) => {
        if (e.error || e.errorDetail) failure = e.errorDetail?.message ?? e.error;
        else onEvent(e);
      },
    );
  });
}
