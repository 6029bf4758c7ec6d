/** http-01 tokens waiting for the CA to fetch them, and the answer to each. */
export class ChallengeAnswers {
  private readonly answers = new Map<string, string>();

  add(token: string, keyAuthorization: string): void {
    this.answers.set(token, keyAuthorization);
  }

  remove(token: string): void {
    this.answers.delete(token);
  }

  get(token: string): string | undefined {
    return this.answers.get(token);
  }
}
