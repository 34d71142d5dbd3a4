package dev.curvlab.curvature.hessian;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.LinearOperator;
import dev.curvlab.nn.ModelObjective;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A SHA-256 digest of everything a curvature matrix depends on (operator kind, architecture, loss,
 * parameters, data and its batching), so a checkpoint is only resumed for the same problem.
 */
final class Fingerprint {
    private Fingerprint() {
    }

    static String of(LinearOperator op) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        update(md, op.getClass().getName() + ":" + op.size());
        if (op instanceof CurvatureOperator c) {
            update(md, c.model().describe() + ":" + c.loss().name() + ":" + c.batches().size());
            update(md, c.parameters());
            for (ModelObjective b : c.batches()) {
                update(md, b.x().array());
                update(md, b.preparedTargets().array());
            }
        } else {
            update(md, "instance:" + System.identityHashCode(op));
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void update(MessageDigest md, String s) {
        md.update(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void update(MessageDigest md, INDArray a) {
        double[] v = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        ByteBuffer buf = ByteBuffer.allocate(8 * v.length);
        buf.asDoubleBuffer().put(v);
        md.update(buf.array());
    }
}
