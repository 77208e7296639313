package io.starling.broker.acl;

/**
 * Set relations between two valid topic filters, level by level: whether every topic one matches is matched by the
 * other ({@link #covers}), and whether some topic is matched by both ({@link #intersects}). Both follow the rule that
 * a filter starting with a wildcard does not match a topic starting with {@code $} [MQTT-4.7.2-1]. Stateless.
 */
final class FilterRelations {

    private FilterRelations() {
    }

    /** Whether every topic that {@code filter} matches is matched by {@code rule}. */
    static boolean covers(String rule, String filter) {
        String[] r = rule.split("/", -1);
        String[] f = filter.split("/", -1);
        if (startsWithWildcard(r) && f[0].startsWith("$")) {
            return false; // the rule does not match $-topics, which this filter (a literal $ level) does
        }
        for (int i = 0; i < f.length; i++) {
            if (i >= r.length) {
                return false; // the filter is longer than the rule: it matches topics the rule does not
            }
            if (r[i].equals("#")) {
                return true;
            }
            if (f[i].equals("#")) {
                return false; // any depth below; the rule is bounded here
            }
            if (r[i].equals("+")) {
                continue; // any single level, including the filter's '+' or literal
            }
            if (f[i].equals("+") || !r[i].equals(f[i])) {
                return false;
            }
        }
        // every level of the filter is covered; the rule may only go on with "/#" (which matches the parent level)
        return r.length == f.length || (r.length == f.length + 1 && r[f.length].equals("#"));
    }

    /** Whether some topic is matched by both filters. */
    static boolean intersects(String a, String b) {
        String[] x = a.split("/", -1);
        String[] y = b.split("/", -1);
        // a filter starting with a wildcard matches no $-topic; one starting with a literal $ level matches only those
        if ((startsWithWildcard(x) && y[0].startsWith("$")) || (startsWithWildcard(y) && x[0].startsWith("$"))) {
            return false;
        }
        int n = Math.min(x.length, y.length);
        for (int i = 0; i < n; i++) {
            if (x[i].equals("#") || y[i].equals("#")) {
                return true;
            }
            if (!x[i].equals("+") && !y[i].equals("+") && !x[i].equals(y[i])) {
                return false;
            }
        }
        if (x.length == y.length) {
            return true;
        }
        // one is longer: only "/#" after the shorter one's end still matches the shorter one's topics
        String[] longer = x.length > y.length ? x : y;
        return longer.length == n + 1 && longer[n].equals("#");
    }

    private static boolean startsWithWildcard(String[] levels) {
        return levels[0].equals("+") || levels[0].equals("#");
    }
}
