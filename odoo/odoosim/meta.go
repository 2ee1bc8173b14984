package odoosim

import (
	"slices"
	"sort"
)

// The models scripting clients touch when they log in and look models up:
// res.users (context_get, the current user's record), ir.model (is a model
// served? odoorpc and erppeek search it by name) and ir.model.fields. Their
// records are built from the users (Options.Users) and from the served
// models themselves, and are read-only: create, write and unlink on them
// are refused with an access error.

// resUser is a res.users record.
type resUser struct {
	ID         int64
	Name       string
	Login      string
	Active     bool
	PartnerID  int64
	CompanyID  int64
	Share      bool
	TZ         string
	Lang       string
	CreateDate string
	WriteDate  string
}

// irModel is an ir.model record: one served model.
type irModel struct {
	ID         int64
	Model      string
	Name       string
	Info       string
	State      string
	Modules    string
	Order      string
	Transient  bool
	Abstract   bool
	FieldIDs   []int64
	CreateDate string
	WriteDate  string
}

// irField is an ir.model.fields record: one field of a served model.
type irField struct {
	ID               int64
	Name             string
	FieldDescription string
	Help             string
	Model            string
	ModelID          int64
	TType            string
	Relation         string
	RelationField    string
	Required         bool
	Readonly         bool
	Store            bool
	State            string
	Modules          string
	CreateDate       string
	WriteDate        string
}

var selFieldType = func() [][2]string {
	types := []string{"binary", "boolean", "char", "date", "datetime", "float", "html", "integer", "json",
		"many2many", "many2one", "many2one_reference", "monetary", "one2many", "properties",
		"properties_definition", "reference", "selection", "text"}
	out := make([][2]string, len(types))
	for i, t := range types {
		out[i] = [2]string{t, t}
	}
	return out
}()

var selModelState = [][2]string{{"manual", "Custom Object"}, {"base", "Base Object"}}

// metaModels are res.users, ir.model and ir.model.fields. ir.model has the
// abstract field from Odoo 19 on.
func metaModels(major int) []*model {
	us := newModel("res.users", "User", "name, login", "name",
		func(r *resUser) *int64 { return &r.ID },
		func(r *resUser) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *resUser) string { return r.Name })
	us.add(
		fChar("name", "Name", func(r *resUser) *string { return &r.Name }).req(),
		fChar("login", "Login", func(r *resUser) *string { return &r.Login }).req().
			withHelp("Used to log into the system"),
		fBool("active", "Active", func(r *resUser) *bool { return &r.Active }),
		fM2O("partner_id", "Related Partner", "res.partner", func(r *resUser) *int64 { return &r.PartnerID }).req().
			withHelp("Partner-related data of the user"),
		fM2O("company_id", "Company", "res.company", func(r *resUser) *int64 { return &r.CompanyID }).req().
			withHelp("The default company for this user."),
		fBool("share", "Share User", func(r *resUser) *bool { return &r.Share }).ro().
			withHelp("External user with limited access, created only for the purpose of sharing data."),
		fChar("tz", "Timezone", func(r *resUser) *string { return &r.TZ }),
		fChar("lang", "Language", func(r *resUser) *string { return &r.Lang }),
	)
	us.hasActive = true
	us.nameFields = []string{"login"}
	us.readOnly = true

	im := newModel("ir.model", "Models", "model", "name",
		func(r *irModel) *int64 { return &r.ID },
		func(r *irModel) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *irModel) string { return r.Name })
	im.add(
		fChar("name", "Model Description", func(r *irModel) *string { return &r.Name }).req(),
		fChar("model", "Model", func(r *irModel) *string { return &r.Model }).req(),
		fChar("order", "Order", func(r *irModel) *string { return &r.Order }).req().
			withHelp("SQL expression for ordering records in the model; e.g. \"x_sequence asc, id desc\""),
		fStr("text", "info", "Information", func(r *irModel) *string { return &r.Info }),
		fO2M("field_id", "Fields", "ir.model.fields", "model_id", func(_ *db, r rec) []int64 {
			return r.(*irModel).FieldIDs
		}),
		fSel("state", "Type", selModelState, func(r *irModel) *string { return &r.State }),
		fBool("transient", "Transient Model", func(r *irModel) *bool { return &r.Transient }),
		(&field{name: "modules", typ: "char", label: "In Apps", help: "List of modules in which the object is defined or inherited",
			get: func(_ *db, r rec) value { return strV(r.(*irModel).Modules) }}).computed(),
	)
	if major >= 19 {
		im.add(fBool("abstract", "Abstract Model", func(r *irModel) *bool { return &r.Abstract }))
	}
	im.nameFields = []string{"model"}
	im.readOnly = true

	fl := newModel("ir.model.fields", "Fields", "name", "field_description",
		func(r *irField) *int64 { return &r.ID },
		func(r *irField) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(d *db, r *irField) string {
			if m, ok := d.tables["ir.model"].get(r.ModelID).(*irModel); ok {
				return r.FieldDescription + " (" + m.Name + ")"
			}
			return r.FieldDescription
		})
	fl.add(
		fChar("name", "Field Name", func(r *irField) *string { return &r.Name }).req(),
		fChar("field_description", "Field Label", func(r *irField) *string { return &r.FieldDescription }).req(),
		fStr("text", "help", "Field Help", func(r *irField) *string { return &r.Help }),
		fChar("model", "Model Name", func(r *irField) *string { return &r.Model }).req().
			withHelp("The technical name of the model this field belongs to"),
		fM2O("model_id", "Model", "ir.model", func(r *irField) *int64 { return &r.ModelID }).req().
			withHelp("The model this field belongs to"),
		fSel("ttype", "Field Type", selFieldType, func(r *irField) *string { return &r.TType }).req(),
		fChar("relation", "Related Model", func(r *irField) *string { return &r.Relation }).
			withHelp("For relationship fields, the technical name of the target model"),
		fChar("relation_field", "Relation Field", func(r *irField) *string { return &r.RelationField }).
			withHelp("For one2many fields, the field on the target model that implement the opposite many2one relationship"),
		fBool("required", "Required", func(r *irField) *bool { return &r.Required }),
		fBool("readonly", "Readonly", func(r *irField) *bool { return &r.Readonly }),
		fBool("store", "Stored", func(r *irField) *bool { return &r.Store }).
			withHelp("Whether the value is stored in the database."),
		fSel("state", "Type", selModelState, func(r *irField) *string { return &r.State }).req(),
		(&field{name: "modules", typ: "char", label: "In Apps", help: "List of modules in which the field is defined",
			get: func(_ *db, r rec) value { return strV(r.(*irField).Modules) }}).computed(),
	)
	fl.nameFields = []string{"name"}
	fl.readOnly = true
	return []*model{us.finish(), im.finish(), fl.finish()}
}

// moduleOf is the module that defines a served model.
func moduleOf(name string) string {
	switch name {
	case "account.journal", "account.account", "account.move", "account.move.line":
		return "account"
	}
	return "base"
}

// fillMeta builds the records of the metadata models: one res.users record
// per user (and OdooBot, uid 1, archived, unless a user has that id), one
// ir.model record per served model and one ir.model.fields record per
// field. A user's partner is its default company's partner.
func (x *db) fillMeta(users []User) {
	stamp := "2024-01-01 00:00:00"
	var firstCompany *Company
	for _, r := range x.companies.recs {
		if c, ok := r.(*Company); ok {
			firstCompany = c
			break
		}
	}
	ut := x.tables["res.users"]
	addUser := func(id int64, name, login string, active bool, companies []int64) {
		u := &resUser{ID: id, Name: name, Login: login, Active: active, TZ: "Europe/Brussels", Lang: "en_US",
			CreateDate: stamp, WriteDate: stamp}
		c := firstCompany
		if len(companies) > 0 {
			c, _ = x.companies.get(companies[0]).(*Company)
		}
		if c != nil {
			u.CompanyID, u.PartnerID = c.ID, c.PartnerID
		}
		ut.put(u)
	}
	hasBot := false
	for _, u := range users {
		hasBot = hasBot || u.ID == 1
	}
	if !hasBot {
		addUser(1, "OdooBot", "__system__", false, nil)
	}
	for _, u := range users {
		addUser(u.ID, cond(u.Name != "", u.Name, u.Login), u.Login, true, u.CompanyIDs)
	}

	names := make([]string, 0, len(x.models))
	for name := range x.models {
		names = append(names, name)
	}
	sort.Strings(names)
	mt, ft := x.tables["ir.model"], x.tables["ir.model.fields"]
	fieldID := int64(1)
	for i, name := range names {
		m := x.models[name]
		im := &irModel{ID: int64(i + 1), Model: name, Name: m.description, State: "base", Modules: moduleOf(name),
			Order: m.defaultOrder, CreateDate: stamp, WriteDate: stamp}
		for _, f := range m.fields {
			ft.put(&irField{ID: fieldID, Name: f.name, FieldDescription: f.label, Help: f.help, Model: name,
				ModelID: im.ID, TType: f.typ, Relation: f.relation, RelationField: f.inverse, Required: f.required,
				Readonly: f.readonly, Store: f.store, State: "base", Modules: moduleOf(name),
				CreateDate: stamp, WriteDate: stamp})
			im.FieldIDs = append(im.FieldIDs, fieldID)
			fieldID++
		}
		mt.put(im)
	}
}

// userContext is res.users.context_get (odoo/addons/base/models/res_users.py):
// lang, tz and uid. The caller holds the read lock or needs none (the
// users' records never change).
func (s *Sim) userContext(u *User) omap {
	tz := any(false)
	if r, ok := s.db.users.get(u.ID).(*resUser); ok && r.TZ != "" {
		tz = r.TZ
	}
	return omap{{"lang", "en_US"}, {"tz", tz}, {"uid", u.ID}}
}

func mContextGet(c *call) (any, error) { return c.s.userContext(c.e.user), nil }

// mCheckAccessRights is BaseModel.check_access_rights(operation,
// raise_exception=True): True, or the access error (False when
// raise_exception is false).
func mCheckAccessRights(c *call) (any, error) {
	op, _ := c.a["operation"].(string)
	if !slices.Contains([]string{"read", "write", "create", "unlink"}, op) {
		return nil, newErr("AssertionError", 1, 500, "Invalid access mode")
	}
	if err := c.e.checkAccess(c.m, op); err != nil {
		if truthy(c.a["raise_exception"]) {
			return nil, err
		}
		return false, nil
	}
	return true, nil
}
