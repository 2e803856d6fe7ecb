// Preloaded into an agent by a bench (node --import): answers 'memory' on the IPC channel with
// process.memoryUsage(), so the bench can print the V8 heap next to the RSS it reads from /proc.
// Loaded into every variant alike; it adds one listener and no timer.
process.on('message', (m) => {
  if (m === 'memory') process.send?.({ memory: process.memoryUsage() });
});
// The channel must not keep the agent alive, nor change when it exits.
process.channel?.unref();
