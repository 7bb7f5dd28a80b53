package io.ollamabalancer.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which browser origins may call the balancer, with the same defaults Ollama itself uses (localhost, 127.0.0.1 and
 * 0.0.0.0 on any port, and app, file, tauri and VS Code webview schemes) plus the configured extra origins, where
 * {@code *} is a wildcard and a lone {@code *} allows every origin. Immutable; thread-safe.
 */
final class CorsPolicy {
    private static final List<String> DEFAULTS = List.of(
            "http://localhost", "https://localhost", "http://localhost:*", "https://localhost:*",
            "http://127.0.0.1", "https://127.0.0.1", "http://127.0.0.1:*", "https://127.0.0.1:*",
            "http://0.0.0.0", "https://0.0.0.0", "http://0.0.0.0:*", "https://0.0.0.0:*",
            "app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*");

    private final List<String> patterns;
    private final boolean any;

    private CorsPolicy(List<String> patterns, boolean any) {
        this.patterns = patterns;
        this.any = any;
    }

    /** The defaults plus {@code extra}, a comma-separated list (for example the value of {@code OLLAMA_ORIGINS}). */
    static CorsPolicy of(String extra) {
        List<String> p = new ArrayList<>(DEFAULTS);
        boolean any = false;
        if (extra != null) {
            for (String s : extra.split(",")) {
                String t = s.trim().toLowerCase(Locale.ROOT);
                if (t.equals("*")) {
                    any = true;
                } else if (!t.isEmpty()) {
                    p.add(t);
                }
            }
        }
        return new CorsPolicy(List.copyOf(p), any);
    }

    /** Whether every origin is allowed (then {@code Access-Control-Allow-Origin: *} is sent). */
    boolean allowsAny() {
        return any;
    }

    boolean allows(String origin) {
        if (any) {
            return true;
        }
        String o = origin.toLowerCase(Locale.ROOT);
        for (String p : patterns) {
            if (glob(p, 0, o, 0)) {
                return true;
            }
        }
        return false;
    }

    private static boolean glob(String p, int pi, String s, int si) {
        while (pi < p.length()) {
            char c = p.charAt(pi);
            if (c == '*') {
                for (int k = si; k <= s.length(); k++) {
                    if (glob(p, pi + 1, s, k)) {
                        return true;
                    }
                }
                return false;
            }
            if (si >= s.length() || s.charAt(si) != c) {
                return false;
            }
            pi++;
            si++;
        }
        return si == s.length();
    }
}
