package rig

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
)

//go:embed describe/*.tmpl
var describeFS embed.FS

var describeTmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
}).ParseFS(describeFS, "describe/*.tmpl"))

// Formats are what Describe writes: what the rig's side needs to read the
// layout.
var Formats = []string{"c", "simulink", "labview", "json"}

// describeField is a field as the templates show it.
type describeField struct {
	Field
	Meaning string
}

func (f describeField) CType() string {
	switch f.Type {
	case F32:
		return "float"
	case F64:
		return "double"
	case U8, U16, U32, U64:
		return fmt.Sprintf("uint%d_t", f.Type.Size()*8)
	}
	return fmt.Sprintf("int%d_t", f.Type.Size()*8)
}

// CName is the member name: pads are numbered so that C takes them.
func (f describeField) CName() string {
	if f.src == srcPad {
		return fmt.Sprintf("pad%d", f.Offset)
	}
	return f.Name
}

func (f describeField) SimulinkType() string {
	switch f.Type {
	case F32:
		return "single"
	case F64:
		return "double"
	case U8, U16, U32, U64:
		return fmt.Sprintf("uint%d", f.Type.Size()*8)
	}
	return fmt.Sprintf("int%d", f.Type.Size()*8)
}

func (f describeField) LabVIEWType() string {
	switch f.Type {
	case F32:
		return "SGL"
	case F64:
		return "DBL"
	case U8, U16, U32, U64:
		return fmt.Sprintf("U%d", f.Type.Size()*8)
	}
	return fmt.Sprintf("I%d", f.Type.Size()*8)
}

type describeData struct {
	Spec      string
	Size      int
	Every     int
	BigEndian bool
	OrderName string
	Fields    []describeField
}

// Describe writes what the rig's side needs to read l: format "c" a
// packed C struct, "simulink" the UDP Receive and Byte Unpacking
// settings, "labview" the cluster and byte order for Unflatten From
// String, "json" {"order","size","every","fields":[{"name","type","offset"}]}.
func (l *Layout) Describe(format string) ([]byte, error) {
	if format == "json" {
		return l.describeJSON()
	}
	t := describeTmpl.Lookup(format + ".tmpl")
	if t == nil {
		return nil, fmt.Errorf("rig: describe as %q: want %s", format, strings.Join(Formats, ", "))
	}
	d := describeData{Spec: l.String(), Size: l.Size, Every: l.Every, BigEndian: l.Order == BigEndian, OrderName: "little-endian"}
	if d.BigEndian {
		d.OrderName = "big-endian"
	}
	for _, f := range l.Fields {
		fi, _ := fieldInfo(f.Name)
		d.Fields = append(d.Fields, describeField{Field: f, Meaning: fi.Meaning})
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("rig: describe as %s: %w", format, err)
	}
	return b.Bytes(), nil
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
