package io.ollamabalancer.sim;

import io.netty.util.NetUtil;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Locale;

/**
 * Ollama's check of the {@code Host} header on a loopback-bound server: {@code localhost}, {@code *.localhost},
 * {@code *.local}, {@code *.internal} and loopback, private, link-local or unspecified IP literals pass; anything
 * else gets 403. Resolves nothing (the machine-hostname and local-interface cases are not emulated). Stateless.
 */
final class HostCheck {
    private HostCheck() {
    }

    static boolean allowed(String hostHeader) {
        if (hostHeader == null || hostHeader.isEmpty()) {
            return true;
        }
        String host = stripPort(hostHeader.trim()).toLowerCase(Locale.ROOT);
        if (host.equals("localhost") || host.endsWith(".localhost") || host.endsWith(".local")
                || host.endsWith(".internal")) {
            return true;
        }
        InetAddress ip = NetUtil.createInetAddressFromIpAddressString(host);
        if (ip == null) {
            return false;
        }
        return ip.isLoopbackAddress() || ip.isSiteLocalAddress() || ip.isAnyLocalAddress()
                || ip.isLinkLocalAddress() || isUniqueLocal6(ip);
    }

    private static boolean isUniqueLocal6(InetAddress ip) {
        return ip instanceof Inet6Address && (ip.getAddress()[0] & 0xFE) == 0xFC;
    }

    private static String stripPort(String h) {
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 ? h.substring(1, end) : h;
        }
        int colon = h.indexOf(':');
        // More than one colon is a bare IPv6 literal without a port.
        if (colon >= 0 && h.indexOf(':', colon + 1) < 0) {
            return h.substring(0, colon);
        }
        return h;
    }
}
