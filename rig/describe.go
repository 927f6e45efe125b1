package rig

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Formats are what Describe writes: what the rig's side needs to read the
// layout.
var Formats = []string{"c", "simulink", "labview", "json"}

// Describe writes what the rig's side needs to read l: format "c" a
// packed C struct, "simulink" the UDP Receive and Byte Unpacking
// settings, "labview" the cluster and byte order for Unflatten From
// String, "json" {"order","size","every","fields":[{"name","type","offset"}]}.
// (Written with a strings.Builder: text/template would keep the linker
// from dropping unused methods of the whole binary.)
func (l *Layout) Describe(format string) ([]byte, error) {
	var b strings.Builder
	switch format {
	case "json":
		return l.describeJSON()
	case "c":
		l.describeC(&b)
	case "simulink":
		l.describeSimulink(&b)
	case "labview":
		l.describeLabVIEW(&b)
	default:
		return nil, fmt.Errorf("rig: describe as %q: want %s", format, strings.Join(Formats, ", "))
	}
	return []byte(b.String()), nil
}

func (l *Layout) orderName() string {
	if l.Order == BigEndian {
		return "big-endian"
	}
	return "little-endian"
}

func meaning(f Field) string {
	fi, _ := fieldInfo(f.Name)
	return fi.Meaning
}

func cType(t Type) string {
	switch t {
	case F32:
		return "float"
	case F64:
		return "double"
	case U8, U16, U32, U64:
		return fmt.Sprintf("uint%d_t", t.Size()*8)
	}
	return fmt.Sprintf("int%d_t", t.Size()*8)
}

func simulinkType(t Type) string {
	switch t {
	case F32:
		return "single"
	case F64:
		return "double"
	case U8, U16, U32, U64:
		return fmt.Sprintf("uint%d", t.Size()*8)
	}
	return fmt.Sprintf("int%d", t.Size()*8)
}

func labviewType(t Type) string {
	switch t {
	case F32:
		return "SGL"
	case F64:
		return "DBL"
	case U8, U16, U32, U64:
		return fmt.Sprintf("U%d", t.Size()*8)
	}
	return fmt.Sprintf("I%d", t.Size()*8)
}

func (l *Layout) describeC(b *strings.Builder) {
	fmt.Fprintf(b, "/* imustream rig sample: one per UDP datagram, %d bytes, %s.\n", l.Size, l.orderName())
	fmt.Fprintf(b, " * Layout: %s\n * Printed by: imustream rig-layout --as c\n", l)
	if l.Order == BigEndian {
		b.WriteString(" * The fields are big-endian: swap them on a little-endian machine (be16toh,\n" +
			" * be32toh, be64toh; a float through an integer of its size and memcpy).\n")
	}
	if l.Every > 1 {
		fmt.Fprintf(b, " * Decimation: one sample in %d is sent; seq steps by %d.\n", l.Every, l.Every)
	}
	b.WriteString(" */\n#ifndef IMUSTREAM_RIG_SAMPLE_H\n#define IMUSTREAM_RIG_SAMPLE_H\n#include <stdint.h>\n\n")
	b.WriteString("#pragma pack(push, 1)\ntypedef struct {\n")
	for _, f := range l.Fields {
		name := f.Name
		if f.src == srcPad {
			name = fmt.Sprintf("pad%d", f.Offset) // pads are numbered so that C takes them
		}
		fmt.Fprintf(b, "\t%-9s %s; /* offset %d: %s */\n", cType(f.Type), name, f.Offset, meaning(f))
	}
	b.WriteString("} imustream_rig_sample;\n#pragma pack(pop)\n\n")
	fmt.Fprintf(b, "_Static_assert(sizeof(imustream_rig_sample) == %d, \"imustream_rig_sample must be packed: %d bytes\");\n#endif\n", l.Size, l.Size)
}

func (l *Layout) describeSimulink(b *strings.Builder) {
	fmt.Fprintf(b, "Simulink Real-Time: one imustream sample per UDP datagram, %d bytes, %s.\nLayout: %s\n\n", l.Size, l.orderName(), l)
	sent := "the daemon sends every sample"
	if l.Every > 1 {
		sent = fmt.Sprintf("the daemon sends one sample in %d", l.Every)
	}
	fmt.Fprintf(b, "UDP Receive block\n"+
		"  Local IP port ............ the port of the daemon's --rig-to\n"+
		"  Receive width ............ %d\n"+
		"  Output data type ......... uint8 (the block's default)\n"+
		"  Sample time .............. your model's step (%s)\n\n", l.Size, sent)
	dims := make([]string, len(l.Fields))
	types := make([]string, len(l.Fields))
	for i, f := range l.Fields {
		dims[i], types[i] = "1", "'"+simulinkType(f.Type)+"'"
	}
	fmt.Fprintf(b, "Byte Unpacking block (input: the UDP Receive block's data output)\n"+
		"  Output port dimensions (cell)  {%s}\n"+
		"  Output port data types (cell)  {%s}\n"+
		"  Byte alignment ................ 1\n", strings.Join(dims, ","), strings.Join(types, ","))
	if l.Order == BigEndian {
		b.WriteString("  The fields are big-endian: put a Byte Reversal block after each output\n" +
			"  (a little-endian layout, order=le, needs none).\n")
	}
	b.WriteString("\nOutputs, in order:\n")
	for i, f := range l.Fields {
		fmt.Fprintf(b, "  %2d  %-9s %-9s %s\n", i+1, simulinkType(f.Type), f.Name, meaning(f))
	}
	b.WriteString("\nThe Receive block holds its last output when no datagram arrives: watch seq\n" +
		"to tell a lost or late sample from a repeated one.\n")
}

func (l *Layout) describeLabVIEW(b *strings.Builder) {
	fmt.Fprintf(b, "LabVIEW: one imustream sample per UDP datagram, %d bytes, %s.\nLayout: %s\n\n", l.Size, l.orderName(), l)
	fmt.Fprintf(b, "UDP Read\n  max size ................. %d (or more)\n\n", l.Size)
	b.WriteString("Unflatten From String\n  type ..................... a cluster of these elements, in this order:\n")
	for _, f := range l.Fields {
		fmt.Fprintf(b, "      %-4s %-9s %s\n", labviewType(f.Type), f.Name, meaning(f))
	}
	order := "little-endian"
	if l.Order == BigEndian {
		order = "big-endian, network order (the default)"
	}
	fmt.Fprintf(b, "  byte order ............... %s\n", order)
	b.WriteString("  data includes array or string size? ... False (the cluster has no arrays or strings)\n")
	if l.Every > 1 {
		fmt.Fprintf(b, "\nThe daemon sends one sample in %d; seq steps by %d.\n", l.Every, l.Every)
	}
}

// JSONLayout is the JSON form of a layout (Describe "json").
type JSONLayout struct {
	Order  string      `json:"order"`
	Size   int         `json:"size"`
	Every  int         `json:"every"`
	Fields []JSONField `json:"fields"`
}

// JSONField is one field of a JSONLayout.
type JSONField struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Offset int    `json:"offset"`
}

func (l *Layout) describeJSON() ([]byte, error) {
	j := JSONLayout{Order: l.Order.String(), Size: l.Size, Every: l.Every, Fields: make([]JSONField, len(l.Fields))}
	for i, f := range l.Fields {
		j.Fields[i] = JSONField{Name: f.Name, Type: f.Type.String(), Offset: f.Offset}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("rig: describe as json: %w", err)
	}
	return append(b, '\n'), nil
}
