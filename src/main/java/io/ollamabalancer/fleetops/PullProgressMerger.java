package io.ollamabalancer.fleetops;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Merges the progress streams of one operation run on several backends ({@code /api/pull}, {@code /api/create})
 * into the one stream a client expects from one Ollama, so that {@code completed/total} is the fleet's progress:
 *
 * <ul>
 *   <li><b>Layers.</b> For each digest, {@code total} is the sum of the targets' totals and {@code completed} the sum
 *       of their completed bytes. A target that has not reported the layer yet counts with the largest total seen
 *       for it (servers pulling one manifest pull the same layers), one that succeeded without reporting it counts as
 *       done, one that failed without reporting it not at all. Both numbers only ever grow, whatever a backend
 *       sends: the {@code ollama} CLI fixes a bar's size from the first line it draws for a digest and ollama-js
 *       users compute percentages line by line, so a bar must neither shrink nor run backwards.</li>
 *   <li><b>Other statuses</b> ({@code pulling manifest}, {@code verifying sha256 digest}, {@code writing manifest},
 *       {@code using existing layer …}) are emitted once. Before any layer line went out, at the first target that
 *       reaches one: the client sees {@code pulling manifest} at once, not when the slowest backend answers. After
 *       that, only when every target still running has reached it (a target that succeeded has reached them all):
 *       the CLI stops the previous spinner and starts a new one for each status, so {@code verifying sha256 digest}
 *       shown while other backends' bars are still filling would claim a phase the fleet has not reached.</li>
 *   <li><b>The end.</b> {@link #finalLine()}: {@code {"status":"success"}} when every target succeeded, else one
 *       {@code {"error":…}} naming each failed backend and its error.</li>
 * </ul>
 *
 * <p>Output is pulled with {@link #poll()}, so a slow client gets coalesced progress: each digest and status is
 * queued at most once, and a queued layer is rendered with its numbers at the time it is taken. What waits is
 * therefore bounded by the number of digests ({@value #MAX_LAYERS} at most) and statuses, however long the client
 * stalls. Pure logic, no I/O; not thread-safe (one per operation, confined to its event loop).
 */
public final class PullProgressMerger {
    /** More distinct layers than any model has; a backend sending more is not followed further. */
    static final int MAX_LAYERS = 256;
    private static final JsonFactory JSON = new JsonFactory();

    private enum State { RUNNING, SUCCEEDED, FAILED }

    private static final class Target {
        final String name;
        State state = State.RUNNING;
        String error;
        final Set<String> reached = new HashSet<>();
        /** digest → {total, completed} as this target reported them (completed never going back). */
        final Map<String, long[]> layers = new HashMap<>();

        Target(String name) {
            this.name = name;
        }
    }

    private static final class Layer {
        final String digest;
        final String status;
        long total;
        long completed;

        Layer(String digest, String status) {
            this.digest = digest;
            this.status = status;
        }
    }

    private record Status(String text) {
    }

    private final Map<String, Target> targets = new LinkedHashMap<>();
    private final Map<String, Layer> layers = new LinkedHashMap<>();
    private final Set<String> emitted = new HashSet<>();
    private final Set<String> waiting = new LinkedHashSet<>();
    /** What the client has not been sent yet: {@link Layer}s and {@link Status}es, each at most once. */
    private final Set<Object> out = new LinkedHashSet<>();
    private boolean layersStarted;

    /** @param targets the backends' names, each running the operation */
    public PullProgressMerger(List<String> targets) {
        for (String t : targets) {
            this.targets.put(t, new Target(t));
        }
    }

    /** One line of {@code target}'s stream. */
    public void line(String target, ProgressLine line) {
        Target t = targets.get(target);
        if (t == null || t.state != State.RUNNING) {
            return;
        }
        if (line.error() != null) {
            failed(target, line.error());
        } else if (line.isLayer()) {
            layer(t, line);
        } else if ("success".equals(line.status())) {
            t.state = State.SUCCEEDED;
            changed();
        } else if (line.status() != null && !line.status().isEmpty()) {
            status(t, line.status());
        }
    }

    /** {@code target} failed (an error line, an error status, a broken connection); later lines are ignored. */
    public void failed(String target, String error) {
        Target t = targets.get(target);
        if (t != null && t.state == State.RUNNING) {
            t.state = State.FAILED;
            t.error = error;
            changed();
        }
    }

    /** {@code target}'s answer ended; without a success line before, that is a failure. */
    public void ended(String target) {
        failed(target, "the stream ended before success");
    }

    /** Whether every target succeeded or failed. */
    public boolean allEnded() {
        for (Target t : targets.values()) {
            if (t.state == State.RUNNING) {
                return false;
            }
        }
        return true;
    }

    /** Whether every target succeeded (meaningful once {@link #allEnded()}). */
    public boolean allSucceeded() {
        for (Target t : targets.values()) {
            if (t.state != State.SUCCEEDED) {
                return false;
            }
        }
        return true;
    }

    /** Each failed backend and its error: {@code backend 'b': …; backend 'c': …}; empty when none failed. */
    public String failures() {
        StringBuilder sb = new StringBuilder();
        for (Target t : targets.values()) {
            if (t.state == State.FAILED) {
                sb.append(sb.length() == 0 ? "" : "; ").append("backend '").append(t.name).append("': ")
                        .append(t.error);
            }
        }
        return sb.toString();
    }

    /** The next merged line to send (NDJSON, newline included), or null when nothing waits. */
    public byte[] poll() {
        Iterator<Object> it = out.iterator();
        if (!it.hasNext()) {
            return null;
        }
        Object next = it.next();
        it.remove();
        if (next instanceof Layer l) {
            return render(l.status, l.digest, l.total, l.completed, null);
        }
        return render(((Status) next).text(), null, 0, 0, null);
    }

    /** Whether {@link #poll()} has a line. */
    public boolean hasPending() {
        return !out.isEmpty();
    }

    /** The last line, once {@link #allEnded()}: success, or the error naming each failed backend. */
    public byte[] finalLine() {
        return allSucceeded() ? render("success", null, 0, 0, null) : render(null, null, 0, 0, failures());
    }

    private void layer(Target t, ProgressLine line) {
        String digest = line.digest();
        Layer l = layers.get(digest);
        boolean fresh = l == null;
        if (fresh) {
            if (layers.size() >= MAX_LAYERS) {
                return;
            }
            l = new Layer(digest, line.status() == null ? "pulling " + digest : line.status());
            layers.put(digest, l);
        }
        long[] mine = t.layers.computeIfAbsent(digest, d -> new long[2]);
        mine[0] = Math.max(mine[0], line.total());
        mine[1] = Math.max(mine[1], line.completed());
        if (update(l) || fresh) {
            out.add(l);
        }
        layersStarted = true;
    }

    private void status(Target t, String status) {
        t.reached.add(status);
        if (emitted.contains(status)) {
            return;
        }
        if (!layersStarted) {
            emit(status);
        } else {
            waiting.add(status);
            releaseWaiting();
        }
    }

    /** A target succeeded or failed: every layer's share and every waiting status may move. */
    private void changed() {
        for (Layer l : layers.values()) {
            if (update(l)) {
                out.add(l);
            }
        }
        releaseWaiting();
    }

    /** Recomputes a layer's fleet numbers; true when they grew. */
    private boolean update(Layer l) {
        long largest = 0;
        for (Target t : targets.values()) {
            long[] r = t.layers.get(l.digest);
            if (r != null) {
                largest = Math.max(largest, r[0]);
            }
        }
        long total = 0;
        long completed = 0;
        for (Target t : targets.values()) {
            long[] r = t.layers.get(l.digest);
            if (r != null) {
                long own = r[0] > 0 ? r[0] : largest;
                total += own;
                completed += t.state == State.SUCCEEDED ? own : Math.min(r[1], own);
            } else if (t.state == State.RUNNING) {
                total += largest;
            } else if (t.state == State.SUCCEEDED) {
                total += largest;
                completed += largest;
            }
        }
        long newTotal = Math.max(l.total, total);
        long newCompleted = Math.max(l.completed, Math.min(completed, newTotal));
        boolean grew = newTotal != l.total || newCompleted != l.completed;
        l.total = newTotal;
        l.completed = newCompleted;
        return grew;
    }

    private void releaseWaiting() {
        Iterator<String> it = waiting.iterator();
        while (it.hasNext()) {
            String s = it.next();
            if (!reachedByAllRunning(s)) {
                return; // keep the order in which the statuses came
            }
            it.remove();
            if (!emitted.contains(s)) {
                emit(s);
            }
        }
    }

    private boolean reachedByAllRunning(String status) {
        boolean anyAlive = false;
        for (Target t : targets.values()) {
            if (t.state == State.RUNNING && !t.reached.contains(status)) {
                return false;
            }
            anyAlive |= t.state != State.FAILED;
        }
        return anyAlive;
    }

    private void emit(String status) {
        emitted.add(status);
        out.add(new Status(status));
    }

    /** Ollama's {@code ProgressResponse} (zero numbers left out, as Go's {@code omitempty}) or its error line. */
    static byte[] render(String status, String digest, long total, long completed, String error) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(96);
        try (JsonGenerator g = JSON.createGenerator(bytes)) {
            g.writeStartObject();
            if (error != null) {
                g.writeStringField("error", error);
            } else {
                g.writeStringField("status", status);
                if (digest != null) {
                    g.writeStringField("digest", digest);
                }
                if (total != 0) {
                    g.writeNumberField("total", total);
                }
                if (completed != 0) {
                    g.writeNumberField("completed", completed);
                }
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen writing to memory
        }
        bytes.write('\n');
        return bytes.toByteArray();
    }
}
