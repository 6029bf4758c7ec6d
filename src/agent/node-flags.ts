/**
 * How the long-running agent's Node is started. A proxy makes short-lived garbage only, so a
 * 1 MB young generation is enough (it otherwise grows to tens of MB under load; no throughput
 * loss measured), and one V8 helper thread is plenty for one event loop. Flags, not environment
 * variables: instances inherit the agent's environment and must not be tuned for it.
 */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1'];
