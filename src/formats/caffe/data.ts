import type { Dim, Shape } from "../../core/shape.js";
import type { Fields } from "./fields.js";

/** Layer types whose tops are the net's inputs. */
export const DATA_TYPES = new Set([
  "Input",
  "Data",
  "ImageData",
  "WindowData",
  "MemoryData",
  "DummyData",
  "HDF5Data",
  "AnnotatedData",
  "VideoData",
]);

export interface DataTops {
  /** One shape per top. */
  shapes: Shape[];
  /** What was assumed, for the graph's notes. */
  note?: string;
}

/**
 * The shapes a data layer produces. `Input`, `DummyData` and `MemoryData` state them; the
 * database readers (`Data`, `ImageData` …) state the batch and perhaps a crop or resize,
 * and the rest is assumed (3 colour channels) or left as a symbol the user binds.
 */
export function dataTops(f: Fields, type: string, tops: number): DataTops {
  if (type === "Input") return { shapes: perTop(f, f.sub("input_param").subs("shape"), tops, "input_param.shape") };
  // Netscope's presets give database layers an `input_param` shape (Caffe ignores it there);
  // it is the only size such a file states, so it is taken, and the note says so.
  const stated = f.sub("input_param").subs("shape");
  if (stated.length > 0 && type !== "DummyData") {
    const shapes = perTop(f, stated, 1, "input_param.shape");
    for (let i = 1; i < tops; i++) shapes.push([shapes[0][0]]);
    return {
      shapes,
      note: `data layer '${f.layer}' (${type}): shape ${shapes[0].join("×")} from its input_param (Caffe itself reads the size from the data)`,
    };
  }
  if (type === "DummyData") {
    const p = f.sub("dummy_data_param");
    const shapes = p.subs("shape");
    if (shapes.length > 0) return { shapes: perTop(f, shapes, tops, "dummy_data_param.shape") };
    const legacy = ["num", "channels", "height", "width"].map((k) => p.ints(k));
    return {
      shapes: Array.from({ length: tops }, (_, i) =>
        legacy.map((v, j) => {
          const d = v.length === 1 ? v[0] : v[i];
          if (d === undefined) p.fail(["num", "channels", "height", "width"][j], `needs a value for top ${i + 1}`);
          return d;
        }),
      ),
    };
  }
  const t = f.sub("transform_param");
  const crop = t.int("crop_size", 0);
  const assumed: string[] = [];
  let batch: Dim;
  let channels: Dim = t.bool("force_gray", false) ? 1 : 3;
  let hw: [Dim, Dim] | undefined = crop > 0 ? [crop, crop] : undefined;
  const source = crop > 0 ? "transform_param.crop_size" : "";
  let hwFrom = source;
  if (type === "MemoryData") {
    const p = f.sub("memory_data_param");
    batch = p.int("batch_size");
    channels = p.int("channels");
    hw ??= [p.int("height"), p.int("width")];
    hwFrom ||= "memory_data_param";
  } else {
    const param =
      { ImageData: "image_data_param", WindowData: "window_data_param", HDF5Data: "hdf5_data_param", VideoData: "video_data_param" }[
        type
      ] ?? "data_param";
    const p = f.sub(param);
    batch = p.has("batch_size") ? p.int("batch_size") : type === "ImageData" ? 1 : "N";
    if (batch === "N") assumed.push("the batch size is unknown");
    if (type === "ImageData") {
      channels = p.bool("is_color", true) && !t.bool("force_gray", false) ? 3 : 1;
      if (!hw && p.int("new_height", 0) > 0 && p.int("new_width", 0) > 0) {
        hw = [p.int("new_height"), p.int("new_width")];
        hwFrom = "image_data_param.new_height/new_width";
      }
    } else if (type === "WindowData" && !hw && p.int("crop_size", 0) > 0) {
      hw = [p.int("crop_size"), p.int("crop_size")];
      hwFrom = "window_data_param.crop_size";
    } else if (type === "AnnotatedData" && !hw) {
      const r = t.sub("resize_param");
      if (r.int("height", 0) > 0 && r.int("width", 0) > 0) {
        hw = [r.int("height"), r.int("width")];
        hwFrom = "transform_param.resize_param";
      }
    }
    if (type !== "ImageData" && !t.has("force_gray")) assumed.push(`${channels} channels assumed`);
  }
  if (!hw) {
    hw = ["height", "width"];
    assumed.push("the image size is unknown (bind it with --input)");
  } else assumed.push(`${hw[0]}×${hw[1]} from ${hwFrom}`);
  const shapes: Shape[] = [[batch, channels, ...hw]];
  // Further tops carry labels: one per image.
  for (let i = 1; i < tops; i++) shapes.push([batch]);
  return { shapes, note: `data layer '${f.layer}' (${type}): batch ${batch}; ${assumed.join("; ")}` };
}

function perTop(f: Fields, shapes: Fields[], tops: number, field: string): Shape[] {
  if (shapes.length !== 1 && shapes.length !== tops) f.fail(field, `gives ${shapes.length} shapes for ${tops} tops`);
  return Array.from({ length: tops }, (_, i) => {
    const dims = (shapes[i] ?? shapes[0]).ints("dim");
    if (dims.length === 0 || dims.some((d) => d === 0)) f.fail(field, `must list positive dims, got [${dims.join(", ")}]`);
    return dims;
  });
}
