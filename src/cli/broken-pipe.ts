/**
 * `ud-bridge journal | head` and `ud-bridge generate | head`: once the reader has what it wanted
 * and closes the pipe, the next write fails with EPIPE. That is the reader's way of saying
 * "enough", not an error: it must end the command quietly, not with an unhandled 'error' event
 * and its stack trace. The stream is then destroyed, so commands that print a lot stop (see
 * `outputClosed`), and a `sync` piped into `head` goes on and finishes its run.
 */
export function ignoreBrokenPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    process.exitCode = 1;
    if (stream !== process.stderr) process.stderr.write(`ud-bridge: cannot write the output (${e.code ?? e.message})\n`);
  });
}

/** Whether nobody reads `out` any more (its pipe was closed): stop producing output. */
export function outputClosed(out: unknown): boolean {
  return (out as { destroyed?: boolean }).destroyed === true;
}
