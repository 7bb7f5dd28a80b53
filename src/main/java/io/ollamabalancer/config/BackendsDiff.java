package io.ollamabalancer.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a config reload changes in the backend list, matched by name: backends added, removed, changed (same name,
 * other settings) and unchanged, plus the new list itself in its order. Immutable value; safe to share.
 *
 * @param added     names only in the new list, in its order
 * @param removed   names only in the old list, in its order
 * @param changed   names in both whose config differs, in the new list's order
 * @param unchanged names in both with an equal config, in the new list's order
 * @param next      the whole new list, in order (what the fleet should look like afterwards)
 */
public record BackendsDiff(List<BackendConfig> added, List<BackendConfig> removed, List<Change> changed,
                           List<BackendConfig> unchanged, List<BackendConfig> next) {

    /** One backend whose settings changed. */
    public record Change(BackendConfig before, BackendConfig after) {
        /**
         * Whether the change needs a new backend (its URL moved: other connections, other server); otherwise it is
         * applied in place ({@code maxConcurrency}, {@code models}, {@code enabled}, memory limits).
         */
        public boolean replacesBackend() {
            return !before.url().equals(after.url());
        }
    }

    public BackendsDiff {
        added = List.copyOf(added);
        removed = List.copyOf(removed);
        changed = List.copyOf(changed);
        unchanged = List.copyOf(unchanged);
        next = List.copyOf(next);
    }

    /** Compares two backend lists by name; each list must have unique names. */
    public static BackendsDiff between(List<BackendConfig> old, List<BackendConfig> next) {
        Map<String, BackendConfig> before = byName(old, "old");
        Map<String, BackendConfig> after = byName(next, "new");
        List<BackendConfig> added = new ArrayList<>();
        List<Change> changed = new ArrayList<>();
        List<BackendConfig> unchanged = new ArrayList<>();
        for (BackendConfig c : after.values()) {
            BackendConfig was = before.get(c.name());
            if (was == null) {
                added.add(c);
            } else if (was.equals(c)) {
                unchanged.add(c);
            } else {
                changed.add(new Change(was, c));
            }
        }
        List<BackendConfig> removed = new ArrayList<>();
        for (BackendConfig c : before.values()) {
            if (!after.containsKey(c.name())) {
                removed.add(c);
            }
        }
        return new BackendsDiff(added, removed, changed, unchanged, next);
    }

    /** Nothing was added, removed or changed. */
    public boolean isEmpty() {
        return added.isEmpty() && removed.isEmpty() && changed.isEmpty();
    }

    /** One line for the log: {@code added [a], removed [b], changed [c]}. */
    public String summary() {
        List<String> c = new ArrayList<>();
        for (Change ch : changed) {
            c.add(ch.after().name());
        }
        return "added " + names(added) + ", removed " + names(removed) + ", changed " + c;
    }

    private static List<String> names(List<BackendConfig> list) {
        List<String> out = new ArrayList<>(list.size());
        for (BackendConfig c : list) {
            out.add(c.name());
        }
        return out;
    }

    private static Map<String, BackendConfig> byName(List<BackendConfig> list, String which) {
        Map<String, BackendConfig> out = new LinkedHashMap<>();
        for (BackendConfig c : list) {
            if (out.put(c.name(), c) != null) {
                throw new IllegalArgumentException("backend name '" + c.name() + "' appears twice in the "
                        + which + " list");
            }
        }
        return out;
    }
}
