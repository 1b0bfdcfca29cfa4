/** The content type of Prometheus' text exposition format, which `/metrics` answers in. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Labels of one sample: name to value. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a metric family: its labels (if any) and its value. */
export interface Sample {
  labels?: Labels;
  value: number;
}

/**
 * Histogram counts observations into cumulative buckets, as a Prometheus histogram: a few
 * additions per observation and no allocation, so it can sit on a request path.
 */
export class Histogram {
  readonly bounds: readonly number[];
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  /** bounds are the buckets' upper bounds, ascending; +Inf is implied. */
  constructor(bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new RangeError("Histogram: bounds must ascend");
    }
    this.bounds = [...bounds];
    this.#counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.#counts[i]!++;
        return;
      }
    }
  }

  /** The cumulative count of each bound (as exposed), then the sum and count of everything. */
  snapshot(): { cumulative: number[]; sum: number; count: number } {
    let running = 0;
    const cumulative = Array.from(this.#counts, (c) => (running += c));
    return { cumulative, sum: this.#sum, count: this.#count };
  }
}

/**
 * PromText writes metric families in Prometheus' text format (0.0.4). Names are the caller's
 * (constant); label values may come from users (group names), so they are escaped.
 */
export class PromText {
  readonly #lines: string[] = [];

  /** family writes a counter or gauge with its samples; nothing when there are none. */
  family(name: string, type: "counter" | "gauge", help: string, samples: readonly Sample[]): this {
    if (samples.length === 0) return this;
    this.#head(name, type, help);
    for (const s of samples) this.#lines.push(`${name}${labelText(s.labels)} ${num(s.value)}`);
    return this;
  }

  /** histogram writes a histogram family of one series. */
  histogram(name: string, help: string, histogram: Histogram, labels: Labels = {}): this {
    this.#head(name, "histogram", help);
    const { cumulative, sum, count } = histogram.snapshot();
    histogram.bounds.forEach((le, i) => {
      const bucket = labelText({ ...labels, le: num(le) });
      this.#lines.push(`${name}_bucket${bucket} ${num(cumulative[i]!)}`);
    });
    this.#lines.push(`${name}_bucket${labelText({ ...labels, le: "+Inf" })} ${num(count)}`);
    this.#lines.push(`${name}_sum${labelText(labels)} ${num(sum)}`);
    this.#lines.push(`${name}_count${labelText(labels)} ${num(count)}`);
    return this;
  }

  /** processFamilies writes the process metrics every Prometheus client exposes by these names. */
  processFamilies(): this {
    const memory = process.memoryUsage();
    return this.family(
      "process_start_time_seconds",
      "gauge",
      "When the process started, in Unix time.",
      [{ value: Math.round(performance.timeOrigin) / 1000 }],
    )
      .family("process_resident_memory_bytes", "gauge", "Resident memory.", [{ value: memory.rss }])
      .family("nodejs_heap_size_used_bytes", "gauge", "V8 heap in use.", [
        { value: memory.heapUsed },
      ]);
  }

  toString(): string {
    return `${this.#lines.join("\n")}\n`;
  }

  #head(name: string, type: string, help: string): void {
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.#lines.push(`# TYPE ${name} ${type}`);
  }
}

function labelText(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}
