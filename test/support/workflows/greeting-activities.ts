export function createGreetingActivities(deps: { prefix: string }) {
  return {
    async greet(name: string): Promise<string> {
      return `${deps.prefix}, ${name}`
    },
  }
}
