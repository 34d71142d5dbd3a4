package dev.curvlab.spark.hessian;

import dev.curvlab.spark.data.Shard;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** SHA-256 of everything a banded matrix depends on: kind, method, bands, batching, model, parameters, data. */
final class BandFingerprint {
    private final MessageDigest md;

    private BandFingerprint() {
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String of(String kind, String method, int batchSize, List<BandManifest.Band> bands, String modelJson, double[] theta, Shard data) {
        BandFingerprint f = new BandFingerprint();
        f.text(kind + "|" + method + "|" + batchSize + "|" + modelJson);
        for (BandManifest.Band b : bands) {
            f.text(b.start() + ":" + b.end() + ",");
        }
        f.doubles(theta);
        f.text("|" + data.rows() + "x" + data.inputs() + "|" + data.targetWidth());
        f.doubles(data.xValues());
        f.doubles(data.yValues());
        return HexFormat.of().formatHex(f.md.digest());
    }

    private void text(String s) {
        md.update(s.getBytes(StandardCharsets.UTF_8));
    }

    private void doubles(double[] v) {
        ByteBuffer buf = ByteBuffer.allocate(8 * 4096);
        for (int i = 0; i < v.length; i += 4096) {
            buf.clear();
            int m = Math.min(4096, v.length - i);
            buf.asDoubleBuffer().put(v, i, m);
            md.update(buf.array(), 0, 8 * m);
        }
    }
}
