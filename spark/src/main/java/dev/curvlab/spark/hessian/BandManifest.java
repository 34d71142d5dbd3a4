package dev.curvlab.spark.hessian;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.Serializable;
import java.util.List;

/**
 * {@code manifest.json} of a banded dense matrix: what the bands are ({@code band-XXXXX.npy}, rows
 * {@code [start, end)} of the {@code [n, n]} matrix each), how they were computed, a fingerprint of
 * everything they depend on (so a rerun only reuses bands of the same problem), and whether every band
 * is written ({@code complete}).
 */
public record BandManifest(String format, String matrix, long n, String method, int batchSize, String fingerprint, List<Band> bands,
        boolean complete) implements Serializable {

    /** The format tag of version 1. */
    public static final String FORMAT = "curvlab-hessian-bands/1";
    /** The manifest's name in the output directory. */
    public static final String FILE = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Rows {@code [start, end)} in file {@code file} (a name inside the directory). */
    public record Band(int index, long start, long end, String file) implements Serializable {
        public long rows() {
            return end - start;
        }

        /** {@code band-00007.npy}. */
        public static String fileName(int index) {
            return String.format("band-%05d.npy", index);
        }
    }

    public BandManifest withComplete(boolean c) {
        return new BandManifest(format, matrix, n, method, batchSize, fingerprint, bands, c);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses a manifest; {@code where} names it in errors. */
    public static BandManifest parse(String json, String where) {
        BandManifest m;
        try {
            m = JSON.readValue(json, BandManifest.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(where + ": not a band manifest (" + e.getOriginalMessage() + ")", e);
        }
        if (!FORMAT.equals(m.format()) || m.bands() == null || m.bands().isEmpty()) {
            throw new IllegalArgumentException(where + ": not a " + FORMAT + " manifest");
        }
        long next = 0;
        for (Band b : m.bands()) {
            if (b.start() != next || b.end() <= b.start() || b.end() > m.n()) {
                throw new IllegalArgumentException(where + ": band " + b.index() + " has rows [" + b.start() + ", " + b.end() + ") but should start at "
                        + next + " and end within N = " + m.n());
            }
            next = b.end();
        }
        if (next != m.n()) {
            throw new IllegalArgumentException(where + ": bands cover " + next + " of N = " + m.n() + " rows");
        }
        return m;
    }
}
