package io.ollamabalancer.backend;

import static java.util.Collections.unmodifiableMap;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What one backend can hold in memory at once: the limits configured for it ({@code maxLoadedModels} and
 * {@code vram} in the backends file), else what its {@code /api/ps} snapshots taught.
 *
 * <p>Learning. Every snapshot is evidence that its set of models <em>fits</em> (its count and its total bytes). A
 * model that vanished before its {@code expires_at} while another one appeared was <em>evicted</em>: the models
 * that were resident plus the newcomer did <em>not</em> fit, so that (count, bytes) pair is recorded as an
 * eviction. A model gone after its {@code expires_at} expired (keep-alive ran out, or a {@code keep_alive:0}
 * unload, which Ollama shows with an expiry of now) and is not evidence. Two or more models vanishing at once
 * with nothing new is a restart or an unload-all, not an eviction (a lone model vanishing is kept pending: on a
 * one-model server that is how a swap looks between unload and load); a failed poll ({@link #lostSight()})
 * forgets the previous snapshot so a restart seen across it is not mistaken either. The newcomer may be listed a snapshot or
 * two after its victim vanished (polls miss moments; a loading runner may not be listed yet), so an early vanish
 * waits {@link #PENDING_MILLIS} for a newcomer. Across a poll gap the recorded set is the largest it could have
 * been (every model not known to have expired, plus the newcomers), which only weakens the claim "this did not
 * fit".
 *
 * <p>Answers. {@link #fits}: configured limits decide when set; else a set no larger (count and bytes) than one
 * seen co-resident fits; else a set at least as large (count and bytes) as one that caused an eviction does not;
 * else the answer is optimistic (yes). {@link #modelLimit()}: configured, else the count learned from evictions
 * when every eviction happened above the largest count seen co-resident (a count-limited server), else
 * {@link #UNLIMITED}. Nothing configured and nothing learned means no limit: Ollama's own default
 * ({@code OLLAMA_MAX_LOADED_MODELS} = 3 per GPU, and whatever VRAM allows) is not knowable from outside, and
 * guessing 3 would wrongly cap larger servers; the first eviction teaches the real figure. Newer evidence wins: a
 * co-resident set that contradicts an older eviction removes it, and the other way round (the operator may have
 * changed the server).
 *
 * <p>Threading. {@link #observe} and {@link #lostSight} are called by the model poller; every other method from
 * any thread. Learned state is one immutable {@link State} in an {@link AtomicReference}, replaced whole by a
 * compare-and-set (no locks: the poller runs on event loops), so readers never block and always see one
 * consistent snapshot. Configured limits are one immutable pair in a volatile field; model sizes live in a
 * concurrent map.
 */
public final class BackendMemory {
    /** {@link #modelLimit()} when nothing limits the number of models. */
    public static final int UNLIMITED = Integer.MAX_VALUE;
    /** How long an early-vanished model waits for the newcomer that evicted it to be listed. */
    static final long PENDING_MILLIS = 30_000;
    /**
     * Slack on {@code expires_at}: it is the backend's clock, compared with ours, so a model gone this close to its
     * expiry counts as expired; losing evidence is harmless, inventing an eviction is not.
     */
    static final long EXPIRY_SLACK_MILLIS = 2_000;
    /** Bound on each evidence frontier (they stay tiny in practice: about one entry per model count). */
    private static final int MAX_EVIDENCE = 64;

    /** Limits set in the backends file; 0 means unset. */
    private record Limits(int models, long bytes) {
    }

    /** A set of models as its size: how many, and their bytes together. */
    public record Footprint(int models, long bytes) {
        /** Whether this set is no larger than {@code other} in both count and bytes. */
        boolean within(Footprint other) {
            return models <= other.models && bytes <= other.bytes;
        }
    }

    /** One model seen resident, and what it held. */
    public record Resident(String model, long bytes) {
    }

    /**
     * What {@code /balancer/status} shows. Immutable.
     *
     * @param configuredModels   configured {@code maxLoadedModels}, 0 when unset
     * @param configuredBytes    configured {@code vram} in bytes, 0 when unset
     * @param learnedModels      the count limit learned from evictions, 0 when unknown
     * @param learnedBytes       the byte budget learned from evictions (the most bytes seen co-resident, when every
     *                           eviction needed more), 0 when unknown
     * @param evictionsSeen      models seen evicted since start
     * @param maxCoResident      the most models seen resident at once
     * @param maxCoResidentBytes the most bytes seen resident at once
     * @param resident           the models of the last snapshot, largest first
     */
    public record Snapshot(int configuredModels, long configuredBytes, int learnedModels, long learnedBytes,
                           long evictionsSeen, int maxCoResident, long maxCoResidentBytes, List<Resident> resident) {
        public Snapshot {
            resident = List.copyOf(resident);
        }
    }

    /** A model that vanished before its expiry, waiting for the newcomer that evicted it. */
    private record Vanished(long bytes, long atMillis) {
    }

    /**
     * Everything learned, immutable and replaced whole.
     *
     * @param last      the previous snapshot by key, {@code null} when there is none to compare with
     * @param pending   models that vanished before their expiry with no newcomer yet
     * @param fitted    maximal footprints seen co-resident (none dominates another)
     * @param evicted   minimal footprints that caused an eviction (none dominates another)
     */
    private record State(Map<String, ResidentModel> last, long lastAtMillis, Map<String, Vanished> pending,
                         List<Footprint> fitted, List<Footprint> evicted, long evictionsSeen, int maxCoResident,
                         long maxCoResidentBytes) {
        static final State EMPTY = new State(null, Long.MIN_VALUE, Map.of(), List.of(), List.of(), 0, 0, 0);
    }

    private volatile Limits limits;
    private final Map<String, Long> sizes = new ConcurrentHashMap<>();
    private final AtomicReference<State> state = new AtomicReference<>(State.EMPTY);

    /**
     * Memory limits from the backends file, to be refined by what is learned.
     *
     * @param configuredModels 0 for none
     * @param configuredBytes 0 for none
     */
    public BackendMemory(int configuredModels, long configuredBytes) {
        this.limits = limits(configuredModels, configuredBytes);
    }

    /** Replaces the configured limits (a config reload), keeping everything learned; 0 unsets one. */
    public void configure(int configuredModels, long configuredBytes) {
        limits = limits(configuredModels, configuredBytes);
    }

    private static Limits limits(int models, long bytes) {
        if (models < 0 || bytes < 0) {
            throw new IllegalArgumentException("limits must not be negative (0 is unset)");
        }
        return new Limits(models, bytes);
    }

    /**
     * Learns from one {@code /api/ps} snapshot taken at {@code nowMillis} (epoch ms, the clock {@code expires_at}
     * is compared with). A snapshot older than the last one (polls that overlapped) is ignored.
     */
    public void observe(List<ResidentModel> resident, long nowMillis) {
        Map<String, ResidentModel> now = new HashMap<>();
        for (ResidentModel m : resident) {
            now.merge(m.key(), m, (a, b) -> a.bytes() >= b.bytes() ? a : b);
            if (m.bytes() > 0) {
                sizes.put(m.key(), m.bytes());
            }
        }
        for (;;) {
            State before = state.get();
            if (nowMillis < before.lastAtMillis) {
                return;
            }
            // Copies in key order, here and in next(), not Map.copyOf's order salted per JVM: with those, the replay
            // of one trace ended two ways by run (src/build/forbidden/run-to-run-order.txt).
            if (state.compareAndSet(before, next(before, unmodifiableMap(new TreeMap<>(now)), nowMillis))) {
                return;
            }
        }
    }

    /** The backend could not be asked (down, restarting): the next snapshot is not compared with the last. */
    public void lostSight() {
        for (;;) {
            State before = state.get();
            State after = new State(null, before.lastAtMillis, Map.of(), before.fitted, before.evicted,
                    before.evictionsSeen, before.maxCoResident, before.maxCoResidentBytes);
            if (state.compareAndSet(before, after)) {
                return;
            }
        }
    }

    private static State next(State s, Map<String, ResidentModel> now, long nowMillis) {
        Map<String, Vanished> pending = new HashMap<>();
        for (Map.Entry<String, Vanished> e : s.pending.entrySet()) {
            if (!now.containsKey(e.getKey()) && nowMillis - e.getValue().atMillis <= PENDING_MILLIS) {
                pending.put(e.getKey(), e.getValue());
            }
        }
        boolean newcomer = false;
        Map<String, ResidentModel> last = s.last;
        if (last != null) {
            boolean allGone = last.size() > 1 && now.isEmpty();
            if (allGone) {
                pending.clear(); // a restart or an unload-all: nothing was pushed out by anything
            } else {
                for (ResidentModel was : last.values()) {
                    boolean expired = was.expiresAtMillis() <= nowMillis + EXPIRY_SLACK_MILLIS;
                    if (!now.containsKey(was.key()) && !expired) {
                        pending.put(was.key(), new Vanished(was.bytes(), nowMillis));
                    }
                }
            }
            for (String key : now.keySet()) {
                newcomer |= !last.containsKey(key);
            }
        }
        List<Footprint> fitted = s.fitted;
        List<Footprint> evicted = s.evicted;
        long evictionsSeen = s.evictionsSeen;
        if (newcomer && !pending.isEmpty()) {
            // The victims, everything still resident and the newcomers would have had to fit together.
            long bytes = 0;
            for (ResidentModel m : now.values()) {
                bytes += m.bytes();
            }
            for (Vanished v : pending.values()) {
                bytes += v.bytes;
            }
            Footprint failed = new Footprint(now.size() + pending.size(), bytes);
            evictionsSeen += pending.size();
            evicted = addMinimal(evicted, failed);
            fitted = removeWhere(fitted, f -> failed.within(f)); // older evidence contradicted by newer
            pending.clear();
        }
        int maxCo = s.maxCoResident;
        long maxCoBytes = s.maxCoResidentBytes;
        if (!now.isEmpty()) {
            long bytes = 0;
            for (ResidentModel m : now.values()) {
                bytes += m.bytes();
            }
            Footprint held = new Footprint(now.size(), bytes);
            fitted = addMaximal(fitted, held);
            evicted = removeWhere(evicted, e -> e.within(held));
            maxCo = Math.max(maxCo, held.models);
            maxCoBytes = Math.max(maxCoBytes, held.bytes);
        }
        return new State(now, nowMillis, unmodifiableMap(new TreeMap<>(pending)), fitted, evicted, evictionsSeen, maxCo,
                maxCoBytes);
    }

    /** Adds {@code f} to a frontier of maximal footprints unless one already covers it; drops those it covers. */
    private static List<Footprint> addMaximal(List<Footprint> frontier, Footprint f) {
        for (Footprint g : frontier) {
            if (f.within(g)) {
                return frontier;
            }
        }
        List<Footprint> out = new ArrayList<>(removeWhere(frontier, g -> g.within(f)));
        out.add(f);
        return bounded(out);
    }

    /** Adds {@code f} to a frontier of minimal footprints unless one already lies within it; drops larger ones. */
    private static List<Footprint> addMinimal(List<Footprint> frontier, Footprint f) {
        for (Footprint g : frontier) {
            if (g.within(f)) {
                return frontier;
            }
        }
        List<Footprint> out = new ArrayList<>(removeWhere(frontier, f::within));
        out.add(f);
        return bounded(out);
    }

    private static List<Footprint> removeWhere(List<Footprint> list, java.util.function.Predicate<Footprint> drop) {
        List<Footprint> out = new ArrayList<>(list.size());
        for (Footprint f : list) {
            if (!drop.test(f)) {
                out.add(f);
            }
        }
        return out.size() == list.size() ? list : List.copyOf(out);
    }

    /** Keeps the newest entries when a frontier grows past its bound (it cannot in practice; this is a guard). */
    private static List<Footprint> bounded(List<Footprint> list) {
        int from = Math.max(0, list.size() - MAX_EVIDENCE);
        return List.copyOf(list.subList(from, list.size()));
    }

    /** Size in memory of {@code model} as last seen (or from {@code /api/tags}); 0 when unknown. */
    public long sizeOf(String model) {
        return sizes.getOrDefault(model, 0L);
    }

    /** Records a model's file size from {@code /api/tags} when nothing better (its size in memory) is known. */
    public void installedSize(String model, long bytes) {
        if (bytes > 0) {
            sizes.putIfAbsent(model, bytes);
        }
    }

    /** How many models it holds at once: configured, else learned; {@link #UNLIMITED} when unknown. */
    public int modelLimit() {
        int configured = limits.models;
        if (configured > 0) {
            return configured;
        }
        int learned = learnedModels(state.get());
        return learned > 0 ? learned : UNLIMITED;
    }

    /**
     * The count limit the evictions show, 0 when unknown: one less than the fewest models that caused an eviction,
     * provided every eviction involved more models than were ever seen co-resident (otherwise bytes, not the
     * count, were the limit).
     */
    private static int learnedModels(State s) {
        if (s.evicted.isEmpty()) {
            return 0;
        }
        int fewest = Integer.MAX_VALUE;
        for (Footprint e : s.evicted) {
            fewest = Math.min(fewest, e.models);
        }
        int mostFitted = 0;
        for (Footprint f : s.fitted) {
            mostFitted = Math.max(mostFitted, f.models);
        }
        return fewest > mostFitted ? Math.max(1, fewest - 1) : 0;
    }

    /**
     * The byte budget the evictions show, 0 when unknown: the most bytes seen co-resident, provided every eviction
     * involved more bytes than that and the count does not already explain them (a count-limited server evicts at
     * any size). A lower bound: the real budget lies between it and the smallest eviction's bytes.
     */
    private static long learnedBytes(State s) {
        if (s.evicted.isEmpty() || learnedModels(s) > 0) {
            return 0;
        }
        long least = Long.MAX_VALUE;
        for (Footprint e : s.evicted) {
            least = Math.min(least, e.bytes);
        }
        long most = 0;
        for (Footprint f : s.fitted) {
            most = Math.max(most, f.bytes);
        }
        return least > most ? most : 0;
    }

    /** Whether {@code model} fits alongside {@code resident} (which may include it) without an eviction. */
    public boolean fits(Collection<String> resident, String model) {
        Footprint wanted = footprint(resident, model);
        if (wanted.models > modelLimit()) {
            return false;
        }
        Limits l = limits;
        if (l.bytes > 0) {
            return wanted.bytes <= l.bytes;
        }
        if (l.models > 0) {
            return true; // the operator's count decides; learned evidence is for servers nobody described
        }
        State s = state.get();
        if (seenToFit(s, wanted)) {
            return true;
        }
        for (Footprint e : s.evicted) {
            if (e.within(wanted)) {
                return false;
            }
        }
        return true;
    }

    /**
     * As {@link #fits}, but cautious where evictions were seen and no limit is configured: only a set no larger (in
     * count and bytes) than one seen co-resident is taken to fit. A plan of what to keep resident should rest on
     * what was seen, not on hope: a wrong guess there evicts models over and over.
     */
    public boolean fitsSurely(Collection<String> resident, String model) {
        // Until an eviction is seen nothing is known to limit the backend, and fits() answers for it.
        return seenToHold(resident, model) || (state.get().evicted.isEmpty() && fits(resident, model));
    }

    /**
     * Whether {@code model} is known to fit beside {@code resident}: the configured limits say so, or a set at least
     * as large (count and bytes) was seen resident at once. Unlike {@link #fits} this is never optimistic: a
     * preload, which nobody asked for, must not gamble the models in use on a limit nobody has seen (a loss there
     * is not even always seen: a model evicted and loaded back between two polls leaves no trace in
     * {@code /api/ps}).
     */
    public boolean seenToHold(Collection<String> resident, String model) {
        Limits l = limits;
        if (l.bytes > 0 || l.models > 0) {
            return fits(resident, model);
        }
        return fits(resident, model) && seenToFit(state.get(), footprint(resident, model));
    }

    /**
     * Whether memory is known to limit what this backend holds: a limit is configured, or an eviction was seen
     * (whether the evidence shows a count or a byte budget).
     */
    public boolean limited() {
        Limits l = limits;
        return l.models > 0 || l.bytes > 0 || !state.get().evicted.isEmpty();
    }

    /** The models and bytes of {@code resident} with {@code model} added (once). */
    private Footprint footprint(Collection<String> resident, String model) {
        boolean in = resident.contains(model);
        long bytes = in ? 0 : sizeOf(model);
        for (String r : resident) {
            bytes += sizeOf(r);
        }
        return new Footprint(in ? resident.size() : resident.size() + 1, bytes);
    }

    private static boolean seenToFit(State s, Footprint wanted) {
        for (Footprint f : s.fitted) {
            if (wanted.within(f)) {
                return true;
            }
        }
        return false;
    }

    /** The most models seen resident at once. */
    public int maxCoResident() {
        return state.get().maxCoResident;
    }

    /** Models seen evicted since start. */
    public long evictionsSeen() {
        return state.get().evictionsSeen;
    }

    public int configuredModels() {
        return limits.models;
    }

    public long configuredBytes() {
        return limits.bytes;
    }

    /** Everything above in one consistent view, for status pages. */
    public Snapshot snapshot() {
        Limits l = limits;
        State s = state.get();
        List<Resident> resident = new ArrayList<>();
        if (s.last != null) {
            for (ResidentModel m : new TreeMap<>(s.last).values()) {
                resident.add(new Resident(m.key(), m.bytes()));
            }
            resident.sort((a, b) -> Long.compare(b.bytes(), a.bytes()));
        }
        return new Snapshot(l.models, l.bytes, learnedModels(s), learnedBytes(s), s.evictionsSeen, s.maxCoResident,
                s.maxCoResidentBytes, resident);
    }
}
