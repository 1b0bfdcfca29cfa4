import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram, PromText } from "./metrics.ts";

test("PromText writes HELP, TYPE and samples, escaping label values and help", () => {
  const text = new PromText()
    .family("a_total", "counter", "Line one\nand a \\ slash.", [
      { labels: { group: 'we"ird\\name\nx' }, value: 3 },
      { labels: { group: "plain" }, value: 0.5 },
    ])
    .family("empty", "gauge", "Not written: no samples.", [])
    .family("b", "gauge", "Unlabelled.", [{ value: Number.POSITIVE_INFINITY }])
    .toString();
  assert.equal(
    text,
    [
      "# HELP a_total Line one\\nand a \\\\ slash.",
      "# TYPE a_total counter",
      'a_total{group="we\\"ird\\\\name\\nx"} 3',
      'a_total{group="plain"} 0.5',
      "# HELP b Unlabelled.",
      "# TYPE b gauge",
      "b +Inf",
      "",
    ].join("\n"),
  );
});

test("Histogram buckets are cumulative, with +Inf, sum and count", () => {
  const h = new Histogram([0.1, 1]);
  for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v);
  const text = new PromText().histogram("d_seconds", "Durations.", h, { route: "/api" }).toString();
  assert.deepEqual(text.trimEnd().split("\n").slice(2), [
    'd_seconds_bucket{route="/api",le="0.1"} 2',
    'd_seconds_bucket{route="/api",le="1"} 3',
    'd_seconds_bucket{route="/api",le="+Inf"} 4',
    'd_seconds_sum{route="/api"} 3.65',
    'd_seconds_count{route="/api"} 4',
  ]);
  assert.throws(() => new Histogram([1, 1]), RangeError);
});
