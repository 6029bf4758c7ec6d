/** The seed's response standards (SPEC.md "Messages"): the exact starts users and scripts rely on. */
export const messages = {
  start: (app: string) => `🚀 CCOM DEPLOYMENT – Launching ${app} with enterprise-grade deployment...`,
  rollbackStart: (app: string) => `⏪ CCOM ROLLBACK – Moving ${app} back to a known-good release...`,
  blocked: (issue: string) => `❌ Deployment blocked - ${issue}`,
  paused: (why: string) => `🔧 Deployment paused - ${why}`,
  waiting: (why: string) => `⏳ Waiting for evidence - ${why}`,
  /** `reason` starts "cancelled by …" (pipeline/cancelled.ts). */
  cancelled: (reason: string) => `⏹ Deployment ${reason}`,
  rollback: '⚡ Rolling back to ensure stability - your app is safe.',
  success: (url: string) => `🎉 Your app is live at ${url}! All systems green.`,
  dryRun: (release: string | null) => `✅ Dry run passed - release ${release ?? ''} is ready to deploy; nothing was changed.`,
};
