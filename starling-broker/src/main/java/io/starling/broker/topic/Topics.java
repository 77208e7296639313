package io.starling.broker.topic;

/**
 * Rules for Topic Names and Topic Filters (MQTT 3.1.1 section 4.7, MQTT 5.0 section 4.7). Stateless.
 */
public final class Topics {

    /** Prefix of a shared subscription's filter: {@code $share/{ShareName}/{filter}} (5.0 4.8.2). */
    public static final String SHARE_PREFIX = "$share/";

    private Topics() {
    }

    /**
     * True when {@code filter} is a valid Topic Filter: non-empty [MQTT-4.7.3-1], {@code #} only as the whole last
     * level [MQTT-4.7.1-2], {@code +} only as a whole level [MQTT-4.7.1-3].
     */
    public static boolean isValidFilter(String filter) {
        int n = filter.length();
        if (n == 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = filter.charAt(i);
            if (c == '#') {
                // [MQTT-4.7.1-2] the multi-level wildcard is last, alone in its level
                if (i != n - 1 || (i > 0 && filter.charAt(i - 1) != '/')) {
                    return false;
                }
            } else if (c == '+') {
                // [MQTT-4.7.1-3] the single-level wildcard occupies an entire level
                if ((i > 0 && filter.charAt(i - 1) != '/') || (i < n - 1 && filter.charAt(i + 1) != '/')) {
                    return false;
                }
            }
        }
        return true;
    }

    /** True when the filter names a shared subscription. */
    public static boolean isShared(String filter) {
        return filter.startsWith(SHARE_PREFIX);
    }

    /**
     * The Share Name of a valid shared subscription filter {@code $share/{ShareName}/{filter}}, or {@code null} when
     * it is malformed: an empty Share Name or one with {@code /}, {@code +} or {@code #} [MQTT-4.8.2-1], or no
     * valid filter after it [MQTT-4.8.2-2].
     */
    public static String shareName(String filter) {
        int slash = filter.indexOf('/', SHARE_PREFIX.length());
        if (slash <= SHARE_PREFIX.length()) {
            return null;
        }
        String group = filter.substring(SHARE_PREFIX.length(), slash);
        if (group.indexOf('+') >= 0 || group.indexOf('#') >= 0) {
            return null;
        }
        return isValidFilter(filter.substring(slash + 1)) ? group : null;
    }

    /** True when {@code name} is a valid Topic Name: non-empty, without wildcards [MQTT-3.3.2-2], [MQTT-4.7.3-1]. */
    public static boolean isValidName(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '+' || c == '#') {
                return false;
            }
        }
        return true;
    }

    /** True when the filter has a wildcard. */
    public static boolean hasWildcard(String filter) {
        return filter.indexOf('+') >= 0 || filter.indexOf('#') >= 0;
    }

    /**
     * Whether a valid {@code filter} matches a valid topic {@code name}, including the rule that a filter starting
     * with a wildcard does not match a name starting with {@code $} [MQTT-4.7.2-1].
     */
    public static boolean matches(String filter, String name) {
        if (!name.isEmpty() && name.charAt(0) == '$' && !filter.isEmpty()
                && (filter.charAt(0) == '+' || filter.charAt(0) == '#')) {
            return false;
        }
        int fi = 0;
        int ni = 0;
        int fn = filter.length();
        int nn = name.length();
        while (fi < fn) {
            char fc = filter.charAt(fi);
            if (fc == '#') {
                return true;
            }
            if (fc == '+') {
                while (ni < nn && name.charAt(ni) != '/') {
                    ni++;
                }
                fi++;
            } else {
                if (ni >= nn || name.charAt(ni) != fc) {
                    // "a/#" matches "a": the filter's remaining "/#" matches the parent level [MQTT-4.7.1-2]
                    return ni == nn && fc == '/' && fi + 2 == fn && filter.charAt(fi + 1) == '#';
                }
                fi++;
                ni++;
            }
        }
        return ni == nn;
    }
}
