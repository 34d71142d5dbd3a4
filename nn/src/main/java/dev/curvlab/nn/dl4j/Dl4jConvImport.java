package dev.curvlab.nn.dl4j;

import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Layer;
import dev.curvlab.nn.model.Sequential;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Imports a DL4J {@link MultiLayerNetwork} on images: {@link ConvolutionLayer} (NCHW; convolution
 * mode Truncate or Strict with its padding, or Same where the padding it implies is symmetric;
 * dilation 1), {@link SubsamplingLayer} MAX or AVG (no padding), {@link DenseLayer} and a final
 * {@link OutputLayer}, with the {@code CnnToFeedForwardPreProcessor} that
 * {@code InputType.convolutional} / {@code convolutionalFlat} insert (a curvlab flatten: DL4J also
 * flattens NCHW in (C, H, W) order) and, first, the {@code FeedForwardToCnnPreProcessor} of flat
 * input (curvlab image models take flat rows too). Activations and losses as in {@link Dl4jImport}.
 *
 * <p><b>Parameters.</b> DL4J stores a conv layer's {@code W} as {@code [nOut, nIn, kh, kw]} (the
 * curvlab layout, row-major) and keeps its bias before the weights in the flat vector; dense layers
 * hold {@code W [nIn, nOut]} column-major. Values are read per layer by name ({@code "W"},
 * {@code "b"}), so the flat order never matters: {@link #fromDl4jTable} converts DL4J's parameter
 * or gradient table to the curvlab layout.
 */
public final class Dl4jConvImport {
    private Dl4jConvImport() {
    }

    /** True when the network has a convolution or subsampling layer or an input preprocessor (not a plain dense stack). */
    public static boolean isConvolutional(MultiLayerNetwork net) {
        if (net == null || net.getLayerWiseConfigurations() == null) {
            return false;
        }
        int count = net.getLayerWiseConfigurations().getConfs().size();
        for (int l = 0; l < count; l++) {
            org.deeplearning4j.nn.conf.layers.Layer c = net.getLayerWiseConfigurations().getConf(l).getLayer();
            if (c instanceof ConvolutionLayer || c instanceof SubsamplingLayer
                    || net.getLayerWiseConfigurations().getInputPreProcess(l) instanceof CnnToFeedForwardPreProcessor) {
                return true;
            }
        }
        return false;
    }

    /**
     * Imports a network whose input shape DL4J recorded in a {@code FeedForwardToCnnPreProcessor}
     * (built with {@code InputType.convolutionalFlat}); otherwise use {@link #fromNetwork(MultiLayerNetwork, int, int, int)}.
     */
    public static ImportedModel fromNetwork(MultiLayerNetwork net) {
        InputPreProcessor first = net.getLayerWiseConfigurations().getInputPreProcess(0);
        if (first instanceof FeedForwardToCnnPreProcessor f) {
            return fromNetwork(net, (int) f.getNumChannels(), (int) f.getInputHeight(), (int) f.getInputWidth());
        }
        throw new IllegalArgumentException("the DL4J network takes images but does not record their shape; import it with"
                + " Dl4jConvImport.fromNetwork(net, channels, height, width)");
    }

    /** Imports a network on images {@code [channels, height, width]} (NCHW). */
    public static ImportedModel fromNetwork(MultiLayerNetwork net, int channels, int height, int width) {
        if (net.getLayers() == null || net.params() == null) {
            throw new IllegalArgumentException("the DL4J network is not initialised: call net.init() before importing");
        }
        int count = net.getLayerWiseConfigurations().getConfs().size();
        Sequential.Builder b = Sequential.imageBuilder(channels, height, width);
        List<Integer> moduleOf = new ArrayList<>();
        Loss loss = null;
        int modules = 0;
        for (int l = 0; l < count; l++) {
            org.deeplearning4j.nn.conf.layers.Layer conf = net.getLayerWiseConfigurations().getConf(l).getLayer();
            if (preprocessor(b, l, net.getLayerWiseConfigurations().getInputPreProcess(l), new long[] {channels, height, width})) {
                modules++;
            }
            try {
                if (conf != null && conf.getClass() == ConvolutionLayer.class) {
                    conv(b, l, (ConvolutionLayer) conf);
                } else if (conf != null && conf.getClass() == SubsamplingLayer.class) {
                    pool(b, l, (SubsamplingLayer) conf);
                } else if (conf != null && (conf.getClass() == DenseLayer.class || conf.getClass() == OutputLayer.class)) {
                    FeedForwardLayer ff = (FeedForwardLayer) conf;
                    Activation a;
                    if (conf instanceof OutputLayer out) {
                        if (l != count - 1) {
                            throw new IllegalArgumentException("an OutputLayer must be the last layer (of " + count + ")");
                        }
                        loss = Dl4jImport.lossOf(out);
                        a = loss != null ? Activation.IDENTITY : Dl4jImport.activation(l, out.getActivationFn());
                    } else {
                        a = Dl4jImport.activation(l, ((BaseLayer) conf).getActivationFn());
                    }
                    if (conf instanceof DenseLayer d && d.hasLayerNorm()) {
                        throw new IllegalArgumentException("DenseLayer with layer normalisation has no curvlab equivalent");
                    }
                    long[] s = b.currentShape();
                    if (s.length != 1 || s[0] != ff.getNIn()) {
                        throw new IllegalArgumentException("takes nIn=" + ff.getNIn() + " but receives " + Arrays.toString(s));
                    }
                    b.dense(Math.toIntExact(ff.getNOut()), a);
                } else {
                    throw new IllegalArgumentException("is a " + (conf == null ? "null" : conf.getClass().getSimpleName())
                            + "; curvlab imports ConvolutionLayer, SubsamplingLayer (MAX, AVG), DenseLayer and a final OutputLayer");
                }
            } catch (IllegalArgumentException e) {
                String m = e.getMessage();
                throw new IllegalArgumentException(m.startsWith("DL4J layer") ? m : "DL4J layer " + l + ": " + m, e);
            }
            moduleOf.add(modules++);
        }
        Sequential model = b.build();
        INDArray theta = Nd4j.zeros(DataType.DOUBLE, model.parameterCount());
        Map<String, INDArray> table = net.paramTable();
        fill(model, moduleOf, table, theta);
        return new ImportedModel(model, theta, loss);
    }

    /**
     * A DL4J parameter or gradient table (keys {@code "<layer>_W"}, {@code "<layer>_b"}, e.g.
     * {@code net.paramTable()} or {@code net.gradient().gradientForVariable()}) as a curvlab-layout
     * vector for {@code imported}; biases DL4J does not store are 0.
     */
    public static INDArray fromDl4jTable(MultiLayerNetwork net, ImportedModel imported, Map<String, INDArray> table) {
        Sequential model = imported.model();
        List<Integer> moduleOf = new ArrayList<>();
        int count = net.getLayerWiseConfigurations().getConfs().size();
        int module = -1;
        for (int l = 0; l < count; l++) {
            InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(l);
            module += pre instanceof CnnToFeedForwardPreProcessor ? 2 : 1;
            moduleOf.add(module);
        }
        INDArray out = Nd4j.zeros(DataType.DOUBLE, model.parameterCount());
        fill(model, moduleOf, table, out);
        return out;
    }

    private static void fill(Sequential model, List<Integer> moduleOf, Map<String, INDArray> table, INDArray theta) {
        for (int l = 0; l < moduleOf.size(); l++) {
            int m = moduleOf.get(l);
            Layer layer = model.modules().get(m);
            if (layer.parameterShapes().isEmpty()) {
                continue;
            }
            long[] range = model.parameterRange(m);
            long[] wShape = layer.parameterShapes().get(0);
            long nw = Arrays.stream(wShape).reduce(1, (a, c) -> a * c);
            // dense W [nIn, nOut] is an 'f'-ordered view and conv W [out, in, kh, kw] a 'c' one: dup('c') lays either out row-major
            INDArray w = table.get(l + "_W").castTo(DataType.DOUBLE).dup('c').reshape(nw);
            theta.get(NDArrayIndex.interval(range[0], range[0] + nw)).assign(w);
            INDArray bias = table.get(l + "_b");
            if (bias != null) {
                theta.get(NDArrayIndex.interval(range[0] + nw, range[1])).assign(bias.castTo(DataType.DOUBLE).reshape(range[1] - range[0] - nw));
            }
        }
    }

    /** Applies a layer's input preprocessor; true when it added a flatten module. */
    private static boolean preprocessor(Sequential.Builder b, int l, InputPreProcessor pre, long[] input) {
        if (pre == null) {
            return false;
        }
        long[] s = b.currentShape();
        if (pre instanceof CnnToFeedForwardPreProcessor c) {
            long[] expected = {c.getNumChannels(), c.getInputHeight(), c.getInputWidth()};
            if (c.getFormat() != CNN2DFormat.NCHW || !Arrays.equals(expected, s)) {
                throw new IllegalArgumentException("DL4J layer " + l + ": CnnToFeedForwardPreProcessor for " + Arrays.toString(expected) + " "
                        + c.getFormat() + " does not fit the activations " + Arrays.toString(s) + " NCHW");
            }
            b.flatten();
            return true;
        } else if (pre instanceof FeedForwardToCnnPreProcessor f && l == 0) {
            long[] expected = {f.getNumChannels(), f.getInputHeight(), f.getInputWidth()};
            if (!Arrays.equals(expected, input)) {
                throw new IllegalArgumentException("DL4J layer 0 takes flat images " + Arrays.toString(expected) + ", not "
                        + Arrays.toString(input));
            }
            return false;
        } else {
            throw new IllegalArgumentException("DL4J layer " + l + " has an input preprocessor " + pre.getClass().getSimpleName()
                    + " that curvlab does not import (only CnnToFeedForward, and FeedForwardToCnn before layer 0)");
        }
    }

    private static void conv(Sequential.Builder b, int l, ConvolutionLayer c) {
        if (c.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            throw new IllegalArgumentException("ConvolutionLayer uses " + c.getCnn2dDataFormat() + "; curvlab imports NCHW only");
        }
        requireNoDilation(c.getDilation());
        long[] s = b.currentShape();
        if (s.length != 3 || s[0] != c.getNIn()) {
            throw new IllegalArgumentException("ConvolutionLayer takes nIn=" + c.getNIn() + " channels but receives " + Arrays.toString(s));
        }
        int[] k = c.getKernelSize();
        int[] padding = padding(c.getConvolutionMode(), c.getPadding(), k, c.getStride(), s);
        Activation a = Dl4jImport.activation(l, c.getActivationFn());
        if (!c.hasBias()) {
            throw new IllegalArgumentException("ConvolutionLayer without bias: curvlab's conv2d always has one");
        }
        b.conv2d(Math.toIntExact(c.getNOut()), k, c.getStride(), padding, a);
    }

    private static void pool(Sequential.Builder b, int l, SubsamplingLayer p) {
        if (p.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            throw new IllegalArgumentException("SubsamplingLayer uses " + p.getCnn2dDataFormat() + "; curvlab imports NCHW only");
        }
        requireNoDilation(p.getDilation());
        int[] padding = padding(p.getConvolutionMode(), p.getPadding(), p.getKernelSize(), p.getStride(), b.currentShape());
        if (padding[0] != 0 || padding[1] != 0) {
            throw new IllegalArgumentException("SubsamplingLayer with padding " + Arrays.toString(padding) + ": curvlab pools without padding");
        }
        if (p.getPoolingType() == PoolingType.MAX) {
            b.maxPool2d(p.getKernelSize(), p.getStride());
        } else if (p.getPoolingType() == PoolingType.AVG) {
            b.avgPool2d(p.getKernelSize(), p.getStride());
        } else {
            throw new IllegalArgumentException("SubsamplingLayer pooling " + p.getPoolingType() + ": curvlab imports MAX and AVG");
        }
    }

    private static void requireNoDilation(int[] d) {
        if (d != null && (d[0] != 1 || d[1] != 1)) {
            throw new IllegalArgumentException("dilation " + Arrays.toString(d) + ": curvlab imports dilation [1, 1] only");
        }
    }

    /** The symmetric zero padding a layer applies, or a clear error for modes curvlab has not. */
    private static int[] padding(ConvolutionMode mode, int[] pad, int[] k, int[] stride, long[] in) {
        if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) {
            return pad.clone();
        }
        if (mode == ConvolutionMode.Same) {
            int[] out = new int[2];
            for (int a = 0; a < 2; a++) {
                long size = in[a + 1];
                long outSize = (size + stride[a] - 1) / stride[a];
                long total = Math.max(0, (outSize - 1) * stride[a] + k[a] - size);
                if (total % 2 != 0) {
                    throw new IllegalArgumentException("convolution mode Same pads " + total + " on axis " + (a == 0 ? "H" : "W")
                            + " (input " + Arrays.toString(in) + ", kernel " + Arrays.toString(k) + ", stride " + Arrays.toString(stride)
                            + "), which is not symmetric; curvlab imports Same only with symmetric padding");
                }
                out[a] = (int) (total / 2);
            }
            return out;
        }
        throw new IllegalArgumentException("convolution mode " + mode + " is not supported (Truncate, Strict, or Same with symmetric padding)");
    }
}
