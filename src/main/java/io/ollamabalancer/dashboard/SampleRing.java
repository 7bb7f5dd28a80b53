package io.ollamabalancer.dashboard;

import java.util.ArrayList;
import java.util.List;

/**
 * The last {@code capacity} chart samples, oldest overwritten first. One writer (the sampler) and any number of
 * readers (the data endpoint's renderer); both take this object's lock for a few array slots, never on an event
 * loop.
 */
final class SampleRing {
    private final ChartSample[] slots;
    private int next; // guarded by this
    private int size; // guarded by this

    SampleRing(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        slots = new ChartSample[capacity];
    }

    synchronized void add(ChartSample s) {
        slots[next] = s;
        next = (next + 1) % slots.length;
        size = Math.min(size + 1, slots.length);
    }

    /** The kept samples newer than {@code afterEpochSecond}, oldest first. */
    synchronized List<ChartSample> after(long afterEpochSecond) {
        List<ChartSample> out = new ArrayList<>(size);
        int first = (next - size + slots.length) % slots.length;
        for (int i = 0; i < size; i++) {
            ChartSample s = slots[(first + i) % slots.length];
            if (s.epochSecond() > afterEpochSecond) {
                out.add(s);
            }
        }
        return out;
    }
}
