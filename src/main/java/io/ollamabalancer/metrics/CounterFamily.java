package io.ollamabalancer.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A family of monotonic counters keyed by label values ({@code endpoint, model, backend, status} → count).
 *
 * <p>Thread-safe: {@link #add} is a map read plus a {@link LongAdder} add once a label combination exists (created
 * at most once, lock-free). The number of combinations is bounded: past {@code maxSeries} new combinations count
 * under one whose every label is {@value LabelBound#OTHER}.
 */
public final class CounterFamily {
    private final List<String> labelNames;
    private final int maxSeries;
    private final ConcurrentHashMap<List<String>, LongAdder> series = new ConcurrentHashMap<>();
    private final AtomicInteger size = new AtomicInteger();
    private final List<String> overflowKey;

    public CounterFamily(int maxSeries, String... labelNames) {
        this.labelNames = List.of(labelNames);
        this.maxSeries = maxSeries;
        String[] other = new String[labelNames.length];
        Arrays.fill(other, LabelBound.OTHER);
        this.overflowKey = List.of(other);
    }

    public List<String> labelNames() {
        return labelNames;
    }

    /** Adds {@code delta} (ignored unless positive) to the counter with these label values, in label order. */
    public void add(long delta, String... labelValues) {
        if (delta <= 0) {
            return;
        }
        if (labelValues.length != labelNames.size()) {
            throw new IllegalArgumentException("expected labels " + labelNames);
        }
        List<String> key = List.of(labelValues);
        LongAdder adder = series.get(key);
        if (adder == null) {
            adder = create(key);
        }
        adder.add(delta);
    }

    private LongAdder create(List<String> key) {
        for (;;) {
            int n = size.get();
            if (n >= maxSeries) {
                return series.computeIfAbsent(overflowKey, k -> new LongAdder());
            }
            if (size.compareAndSet(n, n + 1)) {
                LongAdder fresh = new LongAdder();
                LongAdder prior = series.putIfAbsent(key, fresh);
                if (prior != null) {
                    size.decrementAndGet();
                    return prior;
                }
                return fresh;
            }
        }
    }

    /** The current value for these label values (0 when never counted). */
    public long get(String... labelValues) {
        LongAdder a = series.get(List.of(labelValues));
        return a == null ? 0 : a.sum();
    }

    /** Sum over every label combination. */
    public long total() {
        long t = 0;
        for (LongAdder a : series.values()) {
            t += a.sum();
        }
        return t;
    }

    /** A point-in-time copy, label combinations in lexicographic order. */
    public List<Map.Entry<List<String>, Long>> snapshot() {
        List<Map.Entry<List<String>, Long>> out = new ArrayList<>(series.size());
        for (Map.Entry<List<String>, LongAdder> e : series.entrySet()) {
            out.add(Map.entry(e.getKey(), e.getValue().sum()));
        }
        out.sort((a, b) -> compare(a.getKey(), b.getKey()));
        return Collections.unmodifiableList(out);
    }

    private static int compare(List<String> a, List<String> b) {
        for (int i = 0; i < a.size(); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
