/** Each step registers its undo, run in reverse if a later step fails, so a failed onboarding leaves nothing behind. */
export class UndoSteps {
  private readonly steps: { what: string; run: () => Promise<unknown> }[] = [];

  add(what: string, run: () => Promise<unknown>): void {
    this.steps.push({ what, run });
  }

  async run(progress: (line: string) => void): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step.run();
        progress(`  undone: ${step.what}`);
      } catch (undoError) {
        progress(`  could not undo ${step.what}: ${(undoError as Error).message}`);
      }
    }
  }
}
