-- Wireshark dissector for imustream (docs/protocol.md, docs/rig.md).
--
--   wireshark -X lua_script:imustream.lua
--   tshark -X lua_script:imustream.lua -r capture.pcapng -Y imustream
--
-- or copy this file to Wireshark's personal plugins folder.
--
-- Three protocols:
--   imustream      telemetry datagrams: found by their magic "IMUS" on any
--                  UDP port (the daemon sends from ephemeral ports); the
--                  header, every record field (pressure with 56-byte
--                  records), batches and the 16-byte authentication tag.
--   imustream_ctl  the text commands and replies on the control port
--                  (preference "Control port", default 7600).
--   imustream_rig  a rig's samples in the layout given as a preference (the
--                  daemon's --rig-layout: simulink, labview or NAME:TYPE,…)
--                  on the port given as a preference (the daemon's --rig-to),
--                  and the rig's command packets on its --rig-listen port
--                  read with the --rig-command spec.

------------------------------------------------------------------------
-- Telemetry

local tel = Proto("imustream", "imustream telemetry")

local types = { [1] = "samples", [2] = "end of stream" }
local flag_bits = {
	{ 0x0001, "sensor_error", "Sensor error" },
	{ 0x0002, "late", "Late" },
	{ 0x0004, "skipped", "Skipped" },
	{ 0x0008, "saturated", "Saturated" },
	{ 0x0010, "reinit", "Re-initialised" },
	{ 0x0020, "pressure", "Pressure valid" },
	{ 0x0040, "mag", "Magnetometer valid" },
	{ 0x0080, "orientation", "Orientation valid" },
	{ 0x0100, "mag_overflow", "Magnetometer overflow" },
	{ 0x0200, "fifo_overflow", "FIFO overflow" },
}

local tf = {
	magic      = ProtoField.string("imustream.magic", "Magic"),
	version    = ProtoField.uint8("imustream.version", "Version"),
	type       = ProtoField.uint8("imustream.type", "Type", base.DEC, types),
	count      = ProtoField.uint8("imustream.count", "Count"),
	sample_len = ProtoField.uint8("imustream.sample_len", "Sample length"),
	session    = ProtoField.uint32("imustream.session", "Session", base.HEX),
	seq        = ProtoField.uint32("imustream.seq", "Seq"),
	rate_hz    = ProtoField.uint16("imustream.rate_hz", "Rate (Hz)"),
	hflags     = ProtoField.uint16("imustream.flags", "Header flags", base.HEX),
	tagged     = ProtoField.bool("imustream.flags.tagged", "Tagged", 16, nil, 0x0001),
	record     = ProtoField.none("imustream.record", "Record"),
	rec_seq    = ProtoField.uint32("imustream.rec.seq", "Seq"),
	t_mono_ns  = ProtoField.int64("imustream.rec.t_mono_ns", "Monotonic time (ns)"),
	t_wall_ns  = ProtoField.int64("imustream.rec.t_wall_ns", "Wall time (ns)"),
	wall       = ProtoField.absolute_time("imustream.rec.t_wall", "Wall time", base.UTC),
	late_ns    = ProtoField.uint32("imustream.rec.late_ns", "Late (ns)"),
	rflags     = ProtoField.uint16("imustream.rec.flags", "Flags", base.HEX),
	reserved   = ProtoField.uint16("imustream.rec.reserved", "Reserved"),
	accel_x    = ProtoField.float("imustream.rec.accel_x", "Accel x (m/s²)"),
	accel_y    = ProtoField.float("imustream.rec.accel_y", "Accel y (m/s²)"),
	accel_z    = ProtoField.float("imustream.rec.accel_z", "Accel z (m/s²)"),
	gyro_x     = ProtoField.float("imustream.rec.gyro_x", "Gyro x (rad/s)"),
	gyro_y     = ProtoField.float("imustream.rec.gyro_y", "Gyro y (rad/s)"),
	gyro_z     = ProtoField.float("imustream.rec.gyro_z", "Gyro z (rad/s)"),
	temp_c     = ProtoField.float("imustream.rec.temp_c", "Temperature (°C)"),
	pressure   = ProtoField.float("imustream.rec.pressure_pa", "Pressure (Pa)"),
	extra      = ProtoField.bytes("imustream.rec.extra", "Fields of a newer version"),
	tag        = ProtoField.bytes("imustream.tag", "Authentication tag"),
}
-- Exact values as text, for tools: a float field's display rounds.
local exact = {
	accel_x = ProtoField.string("imustream.rec.accel_x_exact", "Accel x, exact"),
	accel_y = ProtoField.string("imustream.rec.accel_y_exact", "Accel y, exact"),
	accel_z = ProtoField.string("imustream.rec.accel_z_exact", "Accel z, exact"),
	pressure = ProtoField.string("imustream.rec.pressure_pa_exact", "Pressure, exact"),
}
local flag_fields = {}
for _, b in ipairs(flag_bits) do
	flag_fields[b[2]] = ProtoField.bool("imustream.rec.flags." .. b[2], b[3], 16, nil, b[1])
end
local all = {}
for _, f in pairs(tf) do all[#all + 1] = f end
for _, f in pairs(exact) do all[#all + 1] = f end
for _, f in pairs(flag_fields) do all[#all + 1] = f end
tel.fields = all

local e_malformed = ProtoExpert.new("imustream.malformed", "Malformed imustream datagram", expert.group.MALFORMED, expert.severity.ERROR)
tel.experts = { e_malformed }

-- %.9g writes a float32 so that it reads back to the same value.
local function f32text(r) return string.format("%.9g", r:le_float()) end

local HEADER, V1 = 20, 52

local function dissect_telemetry(tvb, pinfo, tree)
	local len = tvb:len()
	if len < HEADER or tvb(0, 4):string() ~= "IMUS" then return 0 end
	pinfo.cols.protocol = "IMUSTREAM"
	local t = tree:add(tel, tvb())
	t:add(tf.magic, tvb(0, 4))
	t:add(tf.version, tvb(4, 1))
	t:add(tf.type, tvb(5, 1))
	t:add(tf.count, tvb(6, 1))
	t:add(tf.sample_len, tvb(7, 1))
	t:add_le(tf.session, tvb(8, 4))
	t:add_le(tf.seq, tvb(12, 4))
	t:add_le(tf.rate_hz, tvb(16, 2))
	local ft = t:add_le(tf.hflags, tvb(18, 2))
	ft:add_le(tf.tagged, tvb(18, 2))
	local typ, count, slen = tvb(5, 1):uint(), tvb(6, 1):uint(), tvb(7, 1):uint()
	local session, seq = tvb(8, 4):le_uint(), tvb(12, 4):le_uint()
	local tagged = bit.band(tvb(18, 2):le_uint(), 1) ~= 0
	local want = HEADER + count * slen + (tagged and 16 or 0)
	if slen < V1 or want ~= len then
		t:add_proto_expert_info(e_malformed, string.format("length %d, header says %d", len, want))
		return len
	end
	pinfo.cols.info = string.format("%s session=%08x seq=%d count=%d%s", types[typ] or ("type " .. typ),
		session, seq, count, tagged and " tagged" or "")
	for i = 0, count - 1 do
		local o = HEADER + i * slen
		local r = t:add(tf.record, tvb(o, slen))
		r:set_text(string.format("Record %d: seq %d", i, (seq + i) % 4294967296))
		r:add(tf.rec_seq, tvb(12, 4), (seq + i) % 4294967296):set_generated()
		r:add_le(tf.t_mono_ns, tvb(o, 8))
		r:add_le(tf.t_wall_ns, tvb(o + 8, 8))
		local ns = tvb(o + 8, 8):le_int64()
		local secs = (ns / 1000000000):tonumber()
		r:add(tf.wall, tvb(o + 8, 8), NSTime.new(secs, (ns - Int64(secs) * 1000000000):tonumber())):set_generated()
		r:add_le(tf.late_ns, tvb(o + 16, 4))
		local fl = r:add_le(tf.rflags, tvb(o + 20, 2))
		for _, b in ipairs(flag_bits) do fl:add_le(flag_fields[b[2]], tvb(o + 20, 2)) end
		r:add_le(tf.reserved, tvb(o + 22, 2))
		for k, name in ipairs({ "accel_x", "accel_y", "accel_z" }) do
			local fr = tvb(o + 20 + 4 * k, 4)
			r:add_le(tf[name], fr)
			r:add(exact[name], fr, f32text(fr)):set_generated()
		end
		r:add_le(tf.gyro_x, tvb(o + 36, 4))
		r:add_le(tf.gyro_y, tvb(o + 40, 4))
		r:add_le(tf.gyro_z, tvb(o + 44, 4))
		r:add_le(tf.temp_c, tvb(o + 48, 4))
		if slen >= 56 then
			r:add_le(tf.pressure, tvb(o + 52, 4))
			r:add(exact.pressure, tvb(o + 52, 4), f32text(tvb(o + 52, 4))):set_generated()
		end
		if slen > 56 then r:add(tf.extra, tvb(o + 56, slen - 56)) end
	end
	if tagged then t:add(tf.tag, tvb(len - 16, 16)) end
	return len
end

tel.dissector = dissect_telemetry
tel:register_heuristic("udp", function(tvb, pinfo, tree)
	if tvb:len() < HEADER or tvb(0, 4):string() ~= "IMUS" then return false end
	dissect_telemetry(tvb, pinfo, tree)
	return true
end)

------------------------------------------------------------------------
-- Text commands and replies on the control port

local ctl = Proto("imustream_ctl", "imustream control")
local cf = {
	line = ProtoField.string("imustream_ctl.line", "Line"),
	kind = ProtoField.string("imustream_ctl.kind", "Kind"),
	id   = ProtoField.string("imustream_ctl.id", "Request id"),
	verb = ProtoField.string("imustream_ctl.verb", "Verb"),
	code = ProtoField.string("imustream_ctl.code", "Error code"),
	arg  = ProtoField.string("imustream_ctl.arg", "Argument"),
	sig  = ProtoField.string("imustream_ctl.sig", "Signature"),
}
ctl.fields = { cf.line, cf.kind, cf.id, cf.verb, cf.code, cf.arg, cf.sig }
ctl.prefs.port = Pref.uint("Control port", 7600, "The daemon's control port (--listen)")

function ctl.dissector(tvb, pinfo, tree)
	local text = tvb():raw()
	local line = text:gsub("\r?\n$", "")
	pinfo.cols.protocol = "IMUSTREAM-CTL"
	local t = tree:add(ctl, tvb())
	t:add(cf.line, tvb(), line)
	local words = {}
	for w in line:gmatch("[^ \t]+") do words[#words + 1] = w end
	local i = 1
	if words[i] and words[i]:match("^id=") then
		t:add(cf.id, tvb(), words[i]:sub(4))
		i = i + 1
	end
	local first = words[i] and words[i]:lower()
	if first == "ok" or first == "err" then
		t:add(cf.kind, tvb(), "reply")
		t:add(cf.verb, tvb(), first)
		if first == "err" and words[i + 1] then
			t:add(cf.code, tvb(), words[i + 1])
			i = i + 1
		end
	else
		t:add(cf.kind, tvb(), "command")
		if first then t:add(cf.verb, tvb(), first) end
	end
	for j = i + 1, #words do
		if words[j]:match("^sig=") then
			t:add(cf.sig, tvb(), words[j]:sub(5))
		else
			t:add(cf.arg, tvb(), words[j])
		end
	end
	pinfo.cols.info = line:sub(1, 120)
	return tvb:len()
end

------------------------------------------------------------------------
-- Rig: samples in a layout, commands by a spec (docs/rig.md)

local rig = Proto("imustream_rig", "imustream rig")
local presets = {
	simulink = "seq:u32,t:f64,ax:f64,ay:f64,az:f64,gx:f64,gy:f64,gz:f64,temp:f64,flags:u16,order=le",
	labview  = "seq:u32,t:f64,ax:f64,ay:f64,az:f64,gx:f64,gy:f64,gz:f64,temp:f64,flags:u16,order=be",
}
local sizes = { u8 = 1, i8 = 1, u16 = 2, i16 = 2, u32 = 4, i32 = 4, f32 = 4, u64 = 8, i64 = 8, f64 = 8 }
local rig_names = { "seq", "t", "t_wall", "mono_ns", "wall_ns", "late_ns", "flags", "ax", "ay", "az", "gx", "gy", "gz",
	"temp", "pressure", "mx", "my", "mz", "qw", "qx", "qy", "qz", "pad" }
local rf = {}
local rig_fields = {}
for _, n in ipairs(rig_names) do
	rf[n] = ProtoField.double("imustream_rig." .. n, n)
	rig_fields[#rig_fields + 1] = rf[n]
end
local rf_exact = ProtoField.string("imustream_rig.exact", "Value, exact")
local rf_cmd_value = ProtoField.double("imustream_rig.command", "Command value")
local rf_action = ProtoField.string("imustream_rig.action", "Action")
rig_fields[#rig_fields + 1] = rf_exact
rig_fields[#rig_fields + 1] = rf_cmd_value
rig_fields[#rig_fields + 1] = rf_action
rig.fields = rig_fields
local e_rig_len = ProtoExpert.new("imustream_rig.length", "Not the layout's length", expert.group.MALFORMED, expert.severity.WARN)
rig.experts = { e_rig_len }
rig.prefs.port = Pref.uint("Rig sample port", 0, "Where the rig's samples go (the daemon's --rig-to port); 0: none")
rig.prefs.layout = Pref.string("Rig layout", "simulink", "The daemon's --rig-layout: simulink, labview or NAME:TYPE,… with order=le|be")
rig.prefs.cmd_port = Pref.uint("Rig command port", 0, "The daemon's --rig-listen port; 0: none")
rig.prefs.command = Pref.string("Rig command", "len=19,offset=4,type=u8,start=1,stop=0,order=le", "The daemon's --rig-command")

-- parse_layout returns the fields, the byte order, the size (nil on error).
local function parse_layout(spec)
	local head = spec:match("^%s*([^,]+)")
	local rest = ""
	if head and presets[head] then
		rest = spec:sub(#spec:match("^%s*[^,]+") + 1)
		spec = presets[head] .. rest
	end
	local fields, le, size = {}, true, 0
	for item in spec:gmatch("[^,]+") do
		item = item:match("^%s*(.-)%s*$")
		local k, v = item:match("^(%w+)=(%w+)$")
		if k == "order" then
			le = (v ~= "be")
		elseif k == "every" then
			-- decimation changes what is sent, not the struct
		else
			local name, typ = item:match("^([%w_]+):(%w+)$")
			if not name or not sizes[typ] or not rf[name] then return nil end
			fields[#fields + 1] = { name = name, typ = typ, off = size }
			size = size + sizes[typ]
		end
	end
	return fields, le, size
end

-- value reads a field of type typ at r; the string is its exact text.
local function value(r, typ, le)
	local v
	if typ == "f32" then v = le and r:le_float() or r:float(); return v, string.format("%.9g", v) end
	if typ == "f64" then v = le and r:le_float() or r:float(); return v, string.format("%.17g", v) end
	if typ == "u64" then v = le and r:le_uint64() or r:uint64(); return v:tonumber(), tostring(v) end
	if typ == "i64" then v = le and r:le_int64() or r:int64(); return v:tonumber(), tostring(v) end
	if typ:sub(1, 1) == "i" then v = le and r:le_int() or r:int() else v = le and r:le_uint() or r:uint() end
	return v, tostring(v)
end

local function dissect_rig_sample(tvb, pinfo, tree)
	local fields, le, size = parse_layout(rig.prefs.layout)
	pinfo.cols.protocol = "IMUSTREAM-RIG"
	local t = tree:add(rig, tvb())
	if not fields then
		t:append_text(" (the layout preference does not parse)")
		return tvb:len()
	end
	if tvb:len() ~= size then
		t:add_proto_expert_info(e_rig_len, string.format("%d bytes, the layout has %d", tvb:len(), size))
		return tvb:len()
	end
	local info = {}
	for _, f in ipairs(fields) do
		local r = tvb(f.off, sizes[f.typ])
		local v, text = value(r, f.typ, le)
		local item = t:add(rf[f.name], r, v)
		item:append_text(" (" .. f.typ .. ")")
		item:add(rf_exact, r, text):set_generated()
		if f.name == "seq" or f.name == "az" then info[#info + 1] = f.name .. "=" .. text end
	end
	pinfo.cols.info = "rig sample " .. table.concat(info, " ")
	return tvb:len()
end

local function dissect_rig_command(tvb, pinfo, tree)
	pinfo.cols.protocol = "IMUSTREAM-RIG"
	local t = tree:add(rig, tvb())
	local c, matches = { order = "le" }, {}
	for k, v in rig.prefs.command:gmatch("(%w+)=([%w:.%-]+)") do
		if k == "match" then matches[#matches + 1] = v else c[k] = v end
	end
	local len, off, typ = tonumber(c.len), tonumber(c.offset), c.type
	if not len or not off or not sizes[typ or ""] then
		t:append_text(" (the command preference does not parse)")
		return tvb:len()
	end
	if tvb:len() ~= len then
		t:add_proto_expert_info(e_rig_len, string.format("%d bytes, the command has %d", tvb:len(), len))
		pinfo.cols.info = "rig command of the wrong length"
		return tvb:len()
	end
	for _, m in ipairs(matches) do
		local mo, hex = m:match("^(%d+):(%x+)$")
		mo = tonumber(mo)
		if mo and mo + #hex / 2 <= len and tvb(mo, #hex / 2):bytes():tohex():lower() ~= hex:lower() then
			t:add(rf_action, tvb(mo, #hex / 2), "not matching"):set_generated()
			pinfo.cols.info = "rig command without the match bytes"
			return tvb:len()
		end
	end
	local r = tvb(off, sizes[typ])
	local v = value(r, typ, c.order ~= "be")
	t:add(rf_cmd_value, r, v)
	local action = "none"
	if v == tonumber(c.start) then action = "start"
	elseif not c.stop or v == tonumber(c.stop) then action = "stop" end
	t:add(rf_action, r, action):set_generated()
	pinfo.cols.info = "rig command: " .. action
	return tvb:len()
end

function rig.dissector(tvb, pinfo, tree)
	if rig.prefs.cmd_port ~= 0 and pinfo.dst_port == rig.prefs.cmd_port then
		return dissect_rig_command(tvb, pinfo, tree)
	end
	return dissect_rig_sample(tvb, pinfo, tree)
end

------------------------------------------------------------------------
-- Ports from the preferences

local udp = DissectorTable.get("udp.port")
local registered = {}
local function register_ports()
	for _, p in ipairs(registered) do udp:remove(p[1], p[2]) end
	registered = {}
	local function add(port, proto)
		if port ~= 0 then
			udp:add(port, proto)
			registered[#registered + 1] = { port, proto }
		end
	end
	add(ctl.prefs.port, ctl)
	add(rig.prefs.port, rig)
	add(rig.prefs.cmd_port, rig)
end
ctl.prefs_changed = register_ports
rig.prefs_changed = register_ports
register_ports()
