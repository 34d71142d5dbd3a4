package dev.curvlab.curvature.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Every entry under a directory (hidden ones included) with its content digest, link target or kind: to prove nothing changed. */
record DirSnapshot(Map<String, String> entries) {
    static DirSnapshot of(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = dir.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    m.put(name, "link -> " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    m.put(name, "dir");
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    m.put(name, digest(p));
                } else {
                    m.put(name, "special");
                }
            }
        }
        return new DirSnapshot(m);
    }

    static String digest(Path p) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Entries added, removed or changed since {@code before}, as text (empty when none). */
    String changesSince(DirSnapshot before) {
        StringBuilder b = new StringBuilder();
        for (var e : entries.entrySet()) {
            String old = before.entries.get(e.getKey());
            if (old == null) {
                b.append("+ ").append(e.getKey()).append('\n');
            } else if (!old.equals(e.getValue())) {
                b.append("~ ").append(e.getKey()).append('\n');
            }
        }
        for (String k : before.entries.keySet()) {
            if (!entries.containsKey(k)) {
                b.append("- ").append(k).append('\n');
            }
        }
        return b.toString();
    }
}
