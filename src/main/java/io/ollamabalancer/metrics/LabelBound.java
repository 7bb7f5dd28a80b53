package io.ollamabalancer.metrics;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * Admits label values (model or backend names) up to a fixed number of distinct values and folds the rest into
 * {@value #OTHER}, so a client sending random model names cannot grow the metrics without bound.
 *
 * <p>Thread-safe and lock-free on the hit path (two map reads, no allocation), because it runs for every streamed
 * chunk. The count of admitted values is exact: a CAS reserves a place before the value is added.
 */
final class LabelBound {
    static final String OTHER = "other";

    private final int maxValues;
    private final int maxCached;
    private final UnaryOperator<String> normalizer;
    private final ConcurrentHashMap<String, Boolean> admitted = new ConcurrentHashMap<>();
    private final AtomicInteger admittedCount = new AtomicInteger();
    /** Raw spelling → admitted label, so the normaliser's allocations happen once per spelling. */
    private final ConcurrentHashMap<String, String> byRaw = new ConcurrentHashMap<>();

    LabelBound(int maxValues, UnaryOperator<String> normalizer) {
        if (maxValues < 1) {
            throw new IllegalArgumentException("maxValues must be at least 1");
        }
        this.maxValues = maxValues;
        this.maxCached = maxValues * 4;
        this.normalizer = normalizer;
    }

    /** The label to use for {@code raw}: its normalised form, {@value #OTHER} past the bound, {@code ""} for none. */
    String admit(String raw) {
        if (raw == null || raw.isEmpty()) {
            return "";
        }
        String hit = byRaw.get(raw);
        if (hit != null) {
            return hit;
        }
        String label = normalizer.apply(raw);
        String result = admitNormalized(label);
        if (byRaw.size() < maxCached) {
            byRaw.putIfAbsent(raw, result);
        }
        return result;
    }

    /** Like {@link #admit} but never admits a new value: an unknown one is {@value #OTHER}. */
    String existing(String raw) {
        if (raw == null || raw.isEmpty()) {
            return "";
        }
        String hit = byRaw.get(raw);
        if (hit != null) {
            return hit;
        }
        String label = normalizer.apply(raw);
        return admitted.containsKey(label) ? label : OTHER;
    }

    private String admitNormalized(String label) {
        for (;;) {
            if (admitted.containsKey(label)) {
                return label;
            }
            int n = admittedCount.get();
            if (n >= maxValues) {
                return OTHER;
            }
            if (admittedCount.compareAndSet(n, n + 1)) {
                if (admitted.putIfAbsent(label, Boolean.TRUE) != null) {
                    admittedCount.decrementAndGet();
                }
                return label;
            }
        }
    }

    int admittedCount() {
        return admittedCount.get();
    }
}
