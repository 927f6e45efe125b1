package discovery

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable writes the entries as imustream discover lists them: a
// header, then one daemon a line, in columns.
func WriteTable(w io.Writer, es []Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDEVICE\tHOST\tVERSION\tSENSOR\tRATE\tKEY")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Instance, e.Addr(), e.Host, e.TXT["version"], e.TXT["sensor"], e.TXT["rate"], e.TXT["key"])
	}
	return tw.Flush()
}

// WriteJSON writes the entries as JSON, one object a line.
func WriteJSON(w io.Writer, es []Entry) error {
	enc := json.NewEncoder(w)
	for _, e := range es {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
