package io.ollamabalancer.sim;

import io.netty.channel.EventLoop;

import java.time.Instant;
import java.time.ZoneId;

/**
 * The state one simulator's handlers share: configuration, models, slots, blobs, counters and faults. Created once per
 * simulator; everything mutable in it is confined to {@link #loop()} except the thread-safe counters, faults and blobs.
 */
final class SimContext {
    private final SimulatorConfig config;
    private final EventLoop loop;
    private final SimCounters counters;
    private final SimFaults faults;
    private final ModelCatalog catalog;
    private final SlotManager slots;
    private final BlobStore blobs;
    private final ZoneId zone = ZoneId.systemDefault();

    SimContext(SimulatorConfig config, EventLoop loop, SimCounters counters, SimFaults faults, BlobStore blobs) {
        this.config = config;
        this.loop = loop;
        this.counters = counters;
        this.faults = faults;
        this.catalog = new ModelCatalog(config, loop, new ModelMemory(config, counters), Instant.now());
        this.slots = new SlotManager(config.slots(), config.maxQueue(), counters, loop);
        this.blobs = blobs;
    }

    SimulatorConfig config() {
        return config;
    }

    EventLoop loop() {
        return loop;
    }

    SimCounters counters() {
        return counters;
    }

    SimFaults faults() {
        return faults;
    }

    ModelCatalog catalog() {
        return catalog;
    }

    SlotManager slots() {
        return slots;
    }

    BlobStore blobs() {
        return blobs;
    }

    /** The zone for Ollama's local-time fields ({@code modified_at}, {@code expires_at}). */
    ZoneId zone() {
        return zone;
    }

    /** Monotonic time for durations. */
    long nanoTime() {
        return System.nanoTime();
    }

    /** Wall-clock time for {@code created_at}. */
    Instant now() {
        return Instant.now();
    }
}
