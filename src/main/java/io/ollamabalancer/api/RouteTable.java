package io.ollamabalancer.api;

import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Maps a request line to the {@link Endpoint} that serves it, the way Ollama's gin router would: the path is
 * percent-decoded before matching (so {@code /v1/models/a%2Fb} is {@code /v1/models/a/b}, which matches nothing,
 * as in Ollama), the query is ignored, and a known path with the wrong method is a 405. Where gin would redirect
 * a trailing slash ({@code /api/tags/}), the same endpoint is returned directly. Anything unknown is
 * {@link Endpoint#PASSTHROUGH} with the method allowed; the backend answers for it.
 * Stateless and thread-safe; fixed routes are preallocated, so matching them allocates nothing.
 */
public final class RouteTable {
    private static final String V1_MODEL_PREFIX = "/v1/models/";
    private static final String ADMIN_PREFIX = "/balancer/backends/";
    private static final String REQUEST_PREFIX = Endpoint.REQUEST_STATUS.path();
    private static final String BLOB_PREFIX = Endpoint.BLOB.path();
    private static final Set<String> GET_HEAD = Set.of("GET", "HEAD");
    private static final Set<String> GET = Set.of("GET");
    private static final Set<String> POST = Set.of("POST");
    private static final Set<String> DELETE = Set.of("DELETE");
    private static final Set<String> ADMIN_ACTIONS = Set.of("drain", "enable");

    private static final Map<String, Endpoint> FIXED_PATHS = new HashMap<>();
    private static final Map<Endpoint, Set<String>> METHODS = new EnumMap<>(Endpoint.class);
    private static final Map<Endpoint, Route> ALLOWED = new EnumMap<>(Endpoint.class);
    private static final Map<Endpoint, Route> NOT_ALLOWED = new EnumMap<>(Endpoint.class);
    private static final Route PASSTHROUGH = new Route(Endpoint.PASSTHROUGH, null, null, null, null, true);

    static {
        for (Endpoint e : Endpoint.values()) {
            Set<String> methods = switch (e) {
                case ROOT, VERSION, TAGS, HEALTH, READY, METRICS, DEBUG_LATENCY, STATUS, UI, UI_DATA, USAGE,
                     REQUEST_STATUS -> GET_HEAD;
                case PS, V1_MODELS, V1_MODEL -> GET;
                case DELETE -> DELETE;
                case PASSTHROUGH, BLOB -> null; // every method goes to the backend, which answers its own 405
                default -> POST;
            };
            if (methods == null) {
                continue;
            }
            METHODS.put(e, methods);
            if (e == Endpoint.V1_MODEL || e == Endpoint.ADMIN) {
                continue;
            }
            if (e != Endpoint.REQUEST_STATUS) { // a prefix: matched in match(), its id read by requestId()
                FIXED_PATHS.put(e.path(), e);
            }
            ALLOWED.put(e, new Route(e, null, null, null, null, true));
            NOT_ALLOWED.put(e, new Route(e, null, null, null, null, false));
        }
    }

    /**
     * What the router knows about one request.
     *
     * @param endpoint      the endpoint, {@link Endpoint#PASSTHROUGH} when the path is not one the balancer knows
     * @param pathModel     for {@link Endpoint#V1_MODEL}, the model from the path, percent-decoded; else {@code null}
     * @param adminBackend  for {@link Endpoint#ADMIN}, the backend name from the path; else {@code null}
     * @param adminAction   for {@link Endpoint#ADMIN}, {@code drain} or {@code enable}; else {@code null}
     * @param blobDigest    for {@link Endpoint#BLOB}, the digest from the path as sent (percent-decoded), not
     *                      checked; else {@code null}
     * @param methodAllowed false when the path is known but the method is not one it serves (answer 405)
     */
    public record Route(Endpoint endpoint, String pathModel, String adminBackend, String adminAction,
                        String blobDigest, boolean methodAllowed) {
    }

    private RouteTable() {
    }

    /**
     * Matches a method (case-sensitive, as in HTTP) and a request target: an origin-form path with an optional
     * query, or an absolute-form URI.
     */
    public static Route match(String method, String rawPath) {
        String path = decodedPath(rawPath);
        if (path == null) {
            return PASSTHROUGH; // a bad percent-escape: let the backend answer its 400
        }
        if (path.length() > 1 && path.charAt(path.length() - 1) == '/') {
            path = path.substring(0, path.length() - 1);
        }
        Endpoint fixed = FIXED_PATHS.get(path);
        if (fixed != null) {
            return METHODS.get(fixed).contains(method) ? ALLOWED.get(fixed) : NOT_ALLOWED.get(fixed);
        }
        if (path.startsWith(V1_MODEL_PREFIX)) {
            String model = path.substring(V1_MODEL_PREFIX.length());
            if (!model.isEmpty() && model.indexOf('/') < 0) {
                return new Route(Endpoint.V1_MODEL, model, null, null, null, GET.contains(method));
            }
            return PASSTHROUGH;
        }
        if (path.startsWith(BLOB_PREFIX)) {
            String digest = path.substring(BLOB_PREFIX.length());
            // gin's :digest is one path segment
            return digest.indexOf('/') < 0 ? new Route(Endpoint.BLOB, null, null, null, digest, true) : PASSTHROUGH;
        }
        if (path.startsWith(REQUEST_PREFIX) && path.length() > REQUEST_PREFIX.length()
                && path.indexOf('/', REQUEST_PREFIX.length()) < 0) {
            return METHODS.get(Endpoint.REQUEST_STATUS).contains(method) ? ALLOWED.get(Endpoint.REQUEST_STATUS)
                    : NOT_ALLOWED.get(Endpoint.REQUEST_STATUS);
        }
        if (path.startsWith(ADMIN_PREFIX)) {
            String rest = path.substring(ADMIN_PREFIX.length());
            int slash = rest.indexOf('/');
            if (slash > 0 && slash == rest.lastIndexOf('/') && ADMIN_ACTIONS.contains(rest.substring(slash + 1))) {
                return new Route(Endpoint.ADMIN, null, rest.substring(0, slash), rest.substring(slash + 1), null,
                        POST.contains(method));
            }
        }
        return PASSTHROUGH;
    }

    /**
     * The id in a {@link Endpoint#REQUEST_STATUS} request target ({@code /balancer/requests/{id}}), percent-decoded;
     * {@code null} when the target is not one.
     */
    public static String requestId(String rawPath) {
        String path = decodedPath(rawPath);
        if (path == null || !path.startsWith(REQUEST_PREFIX)) {
            return null;
        }
        String id = path.substring(REQUEST_PREFIX.length());
        return id.isEmpty() || id.indexOf('/') >= 0 ? null : id;
    }

    /** The path without query or fragment, percent-decoded; {@code null} if an escape is malformed. */
    static String decodedPath(String rawPath) {
        String path = rawPath == null ? "" : rawPath;
        if (path.startsWith("http://") || path.startsWith("https://")) {
            int authority = path.indexOf("//") + 2;
            int slash = path.indexOf('/', authority);
            path = slash < 0 ? "/" : path.substring(slash);
        }
        int end = path.length();
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '?' || c == '#') {
                end = i;
                break;
            }
        }
        path = path.substring(0, end);
        if (path.isEmpty()) {
            return "/";
        }
        return path.indexOf('%') < 0 ? path : percentDecode(path);
    }

    /** RFC 3986 percent-decoding of a path: {@code +} stays a plus, bytes are read as UTF-8. */
    private static String percentDecode(String s) {
        byte[] out = new byte[s.length() * 3];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    return null;
                }
                int hi = hex(s.charAt(i + 1));
                int lo = hex(s.charAt(i + 2));
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out[n++] = (byte) ((hi << 4) | lo);
                i += 2;
            } else {
                byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < s.length()) {
                    utf8 = s.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                System.arraycopy(utf8, 0, out, n, utf8.length);
                n += utf8.length;
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
