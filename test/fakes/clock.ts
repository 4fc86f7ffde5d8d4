import type { Clock } from '../../src/domain/ports.js'

/** A clock that stands still until the test moves it. */
export class FixedClock implements Clock {
  #now: number
  constructor(start: Date | string = '2030-01-01T00:00:00.000Z') {
    this.#now = new Date(start).getTime()
  }

  now(): Date { return new Date(this.#now) }
  advance(seconds: number): void { this.#now += seconds * 1000 }
  set(at: Date): void { this.#now = at.getTime() }
}
