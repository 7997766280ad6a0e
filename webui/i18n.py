"""A tiny i18n: message ids -> {zh, en}; the language comes from ``?lang=``, then the session, then settings.

Templates call ``_("search.total", n=3, ms=1.2)``; a message is a ``str.format`` pattern.
``?lang=en`` on any page switches the language and the session remembers it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, g, request, session

from dossier.app.audit import ACTION_LABELS

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # layout
    "app.name": {"zh": "Dossier 客户档案检索", "en": "Dossier customer files"},
    "nav.search": {"zh": "检索", "en": "Search"},
    "nav.logout": {"zh": "退出", "en": "Log out"},
    "nav.login": {"zh": "登录", "en": "Log in"},
    "nav.user": {"zh": "当前用户", "en": "Signed in as"},
    "lang.switch": {"zh": "English", "en": "中文"},
    "skip.main": {"zh": "跳到正文", "en": "Skip to content"},
    # auth
    "login.title": {"zh": "登录", "en": "Log in"},
    "login.username": {"zh": "用户名", "en": "Username"},
    "login.password": {"zh": "密码", "en": "Password"},
    "login.submit": {"zh": "登录", "en": "Log in"},
    "login.failed": {"zh": "用户名或密码错误。", "en": "Wrong username or password."},
    "login.required": {"zh": "请先登录。", "en": "Please log in first."},
    "login.gone": {
        "zh": "此账户已不可用，请重新登录。",
        "en": "This account is no longer active; please log in again.",
    },
    "login.ended": {
        "zh": "会话已结束（已退出登录，或密码、角色有变更），请重新登录。",
        "en": "Your session has ended (logged out, or the password or role changed); please log in again.",
    },
    "login.idle": {
        "zh": "您已 {minutes} 分钟没有操作，已自动退出，请重新登录。",
        "en": "You were logged out after {minutes} minutes without activity; please log in again.",
    },
    "login.throttled": {
        "zh": "此地址登录失败次数过多，请 {minutes} 分钟后再试。",
        "en": "Too many failed logins from this address; try again in {minutes} minutes.",
    },
    "logout.done": {"zh": "已退出登录。", "en": "You have been logged out."},
    # search form
    "search.placeholder": {
        "zh": "输入关键词，例如 明远 报价 服务器",
        "en": "Keywords, e.g. 明远 报价 服务器",
    },
    "search.label": {"zh": "关键词", "en": "Keywords"},
    "search.submit": {"zh": "搜索", "en": "Search"},
    "search.total": {"zh": "共 {n} 条结果（耗时 {ms} 毫秒）", "en": "{n} results ({ms} ms)"},
    "search.empty": {
        "zh": "没有找到与“{q}”匹配的文件。试试更短的关键词、去掉筛选条件，或检查错别字。",
        "en": "No documents match “{q}”. Try fewer or shorter words, remove filters, or check spelling.",
    },
    "search.empty_filters": {
        "zh": "没有符合筛选条件的文件。请去掉部分筛选条件。",
        "en": "No documents match these filters. Remove some of them.",
    },
    "search.syntax_error": {"zh": "查询语法有误：{msg}", "en": "The query has a syntax error: {msg}"},
    "search.start": {
        "zh": "输入关键词检索合同、报价单、发票、会议纪要、拜访记录和邮件。",
        "en": "Search contracts, quotes, invoices, meeting and visit notes and e-mails.",
    },
    "search.browse_all": {"zh": "浏览全部文件", "en": "Browse all documents"},
    "search.help.title": {"zh": "检索语法", "en": "Query syntax"},
    "search.help.and": {"zh": "空格 = 并且（所有词都要出现）", "en": "space = AND (every word must occur)"},
    "search.help.phrase": {
        "zh": '"短语" = 整个短语连续出现',
        "en": '"phrase" = the words next to each other',
    },
    "search.help.not": {"zh": "-词 = 排除含有该词的文件", "en": "-word = exclude documents with the word"},
    "search.help.or": {"zh": "A OR B = 任一出现即可", "en": "A OR B = either word"},
    "search.help.fields": {
        "zh": "客户:名称　类型:合同　标签:重点 = 按字段限定",
        "en": "customer:name  type:contract  tag:key = restrict to a field",
    },
    "search.filters": {"zh": "筛选", "en": "Filters"},
    "search.apply": {"zh": "应用筛选", "en": "Apply filters"},
    "search.clear": {"zh": "清除筛选", "en": "Clear filters"},
    "search.remove_filter": {"zh": "去掉此筛选", "en": "Remove this filter"},
    "search.active": {"zh": "当前筛选", "en": "Active filters"},
    "facet.doc_type": {"zh": "文件类型", "en": "Document type"},
    "facet.customer": {"zh": "客户", "en": "Customer"},
    "facet.tag": {"zh": "标签", "en": "Tag"},
    "facet.year": {"zh": "年份", "en": "Year"},
    "facet.customer_type": {"zh": "客户类型", "en": "Customer type"},
    "facet.industry": {"zh": "行业", "en": "Industry"},
    "facet.region": {"zh": "地区", "en": "Region"},
    "facet.date": {"zh": "日期范围", "en": "Date range"},
    "facet.date_from": {"zh": "从", "en": "From"},
    "facet.date_to": {"zh": "到", "en": "To"},
    "sort.label": {"zh": "排序", "en": "Sort"},
    "sort.relevance": {"zh": "相关度", "en": "Relevance"},
    "sort.date_desc": {"zh": "日期（新→旧）", "en": "Date (newest first)"},
    "sort.date_asc": {"zh": "日期（旧→新）", "en": "Date (oldest first)"},
    "hit.customer": {"zh": "客户", "en": "Customer"},
    "hit.type": {"zh": "类型", "en": "Type"},
    "hit.date": {"zh": "日期", "en": "Date"},
    "hit.file": {"zh": "文件", "en": "File"},
    "page.prev": {"zh": "上一页", "en": "Previous"},
    "page.next": {"zh": "下一页", "en": "Next"},
    "page.beyond": {"zh": "这一页没有结果了。", "en": "There are no results on this page."},
    "page.first": {"zh": "回到第 1 页", "en": "Back to page 1"},
    "page.nav": {"zh": "分页", "en": "Pages"},
    "page.of": {"zh": "第 {page} / {pages} 页", "en": "Page {page} of {pages}"},
    # document page
    "doc.back": {"zh": "返回检索结果", "en": "Back to results"},
    "doc.download": {"zh": "下载原始文件", "en": "Download original"},
    "doc.metadata": {"zh": "基本信息", "en": "Details"},
    "doc.filename": {"zh": "文件名", "en": "File name"},
    "doc.doc_type": {"zh": "文件类型", "en": "Document type"},
    "doc.customers": {"zh": "客户", "en": "Customers"},
    "doc.tags": {"zh": "标签", "en": "Tags"},
    "doc.date": {"zh": "文件日期", "en": "Document date"},
    "doc.confidentiality": {"zh": "密级", "en": "Confidentiality"},
    "doc.mime": {"zh": "格式", "en": "Format"},
    "doc.size": {"zh": "大小", "en": "Size"},
    "doc.sha256": {"zh": "SHA-256", "en": "SHA-256"},
    "doc.created_at": {"zh": "入库时间", "en": "Added"},
    "doc.language": {"zh": "语言", "en": "Language"},
    "doc.status": {"zh": "状态", "en": "Status"},
    "doc.error": {"zh": "失败原因", "en": "Reason"},
    "doc.warnings": {"zh": "处理提示", "en": "Processing notes"},
    "doc.parent": {"zh": "所属文件", "en": "Part of"},
    "doc.children": {"zh": "包含的文件（附件）", "en": "Contained files (attachments)"},
    "doc.entities": {"zh": "识别出的信息", "en": "Extracted entities"},
    "doc.no_entities": {"zh": "未识别出实体。", "en": "No entities found."},
    "doc.pages": {"zh": "正文（逐页）", "en": "Text, page by page"},
    "doc.page_n": {"zh": "第 {n} 页", "en": "Page {n}"},
    "doc.no_text": {"zh": "（此页没有文字）", "en": "(no text on this page)"},
    "doc.no_pages": {"zh": "没有提取到正文。", "en": "No text was extracted."},
    "doc.ocr": {"zh": "OCR 识别", "en": "OCR"},
    "doc.confidence": {"zh": "置信度 {c}%", "en": "confidence {c}%"},
    "doc.needs_ocr": {"zh": "等待 OCR", "en": "Awaiting OCR"},
    "doc.needs_ocr_note": {
        "zh": "有 {n} 页是扫描图像，正在等待 OCR 识别；识别完成前这些页的文字无法检索。",
        "en": "{n} page(s) are scanned images awaiting OCR; their text is not searchable until then.",
    },
    "doc.highlighting": {"zh": "已高亮：{q}", "en": "Highlighting: {q}"},
    "doc.versions": {"zh": "版本历史", "en": "Version history"},
    "doc.version_n": {"zh": "版本", "en": "Version"},
    "doc.uploaded_by": {"zh": "上传人", "en": "Uploaded by"},
    "doc.uploaded_at": {"zh": "上传时间", "en": "Uploaded at"},
    "status.indexed": {"zh": "已入库", "en": "Indexed"},
    "status.awaiting_ocr": {"zh": "等待 OCR", "en": "Awaiting OCR"},
    "status.failed": {"zh": "失败", "en": "Failed"},
    "status.queued": {"zh": "排队中", "en": "Queued"},
    "status.processing": {"zh": "处理中", "en": "Processing"},
    "conf.public": {"zh": "公开", "en": "Public"},
    "conf.internal": {"zh": "内部", "en": "Internal"},
    "conf.confidential": {"zh": "机密", "en": "Confidential"},
    "conf.finance": {"zh": "财务", "en": "Finance"},
    "entity.phone": {"zh": "电话", "en": "Phone"},
    "entity.mobile": {"zh": "手机", "en": "Mobile"},
    "entity.email": {"zh": "邮箱", "en": "E-mail"},
    "entity.amount": {"zh": "金额", "en": "Amount"},
    "entity.money": {"zh": "金额", "en": "Amount"},
    "entity.date": {"zh": "日期", "en": "Date"},
    "entity.contract_no": {"zh": "合同编号", "en": "Contract no."},
    "entity.credit_code": {"zh": "统一社会信用代码", "en": "Credit code"},
    "entity.company": {"zh": "公司", "en": "Company"},
    "doc.uscc_invalid": {"zh": "校验位错误", "en": "wrong check character"},
    "doc.entity_page": {"zh": "第 {n} 页", "en": "p. {n}"},
    "doc.entity_marked": {"zh": "已在正文中标出所选信息", "en": "The chosen entity is marked in the text"},
    "doc.page_image": {"zh": "页面图像", "en": "Page image"},
    # changing a document
    "docedit.button": {"zh": "编辑", "en": "Edit"},
    "docedit.title": {"zh": "编辑：{name}", "en": "Edit: {name}"},
    "docedit.back": {"zh": "返回文档", "en": "Back to the document"},
    "docedit.details": {"zh": "文档信息", "en": "Document details"},
    "docedit.field.title": {"zh": "标题", "en": "Title"},
    "docedit.date_hint": {
        "zh": "如 2024-03-15 或 2024年3月15日；留空表示日期不详",
        "en": "e.g. 2024-03-15; empty for no date",
    },
    "docedit.tags_hint": {"zh": "多个标签用逗号或顿号分隔", "en": "Separate tags with commas"},
    "docedit.confidentiality_hint": {
        "zh": "修改后不再随文件类型自动变化",
        "en": "Once set here it no longer follows the document type",
    },
    "docedit.confidentiality_managers": {
        "zh": "只有经理和管理员可以修改密级",
        "en": "Only managers and admins change the confidentiality",
    },
    "docedit.save": {"zh": "保存", "en": "Save"},
    "docedit.cancel": {"zh": "取消", "en": "Cancel"},
    "docedit.saved": {"zh": "已保存 {n} 项修改。", "en": "Saved {n} change(s)."},
    "docedit.unchanged": {"zh": "没有修改。", "en": "Nothing changed."},
    "docedit.forbidden": {"zh": "您无权修改此文档。", "en": "You may not change this document."},
    "docedit.level_forbidden": {
        "zh": "只有经理和管理员可以修改密级。",
        "en": "Only managers and admins may change the confidentiality.",
    },
    "docedit.new_version": {"zh": "上传新版本", "en": "Upload a new version"},
    "docedit.new_version_hint": {
        "zh": "新文件将替换正文、识别信息和客户关联；旧版本保留在版本历史中。",
        "en": "The new file replaces the text, entities and customer links; older versions stay in the history.",
    },
    "docedit.upload_version": {"zh": "上传", "en": "Upload"},
    "docedit.version_queued": {
        "zh": "新版本已保存，正在处理。",
        "en": "The new version is stored and being processed.",
    },
    "docedit.version_duplicate": {
        "zh": "该文件已存在（文档 {id}），未添加新版本。",
        "en": "This file is stored already (document {id}); no version added.",
    },
    "docedit.version_already_stored": {
        "zh": "该文件已存在，已由系统保存，未添加新版本。",
        "en": "This file is stored already; no version added.",
    },
    "docedit.delete": {"zh": "删除", "en": "Delete"},
    "docedit.delete_title": {"zh": "删除：{name}", "en": "Delete: {name}"},
    "docedit.delete_warning": {
        "zh": "将删除此文档、它的 {n} 个版本和 {children} 个附件，并从检索中移除；此操作记入审计日志，无法撤销。",
        "en": "This deletes the document, its {n} version(s) and {children} attachment(s), and removes them from search;"
        " it is recorded in the audit log and cannot be undone.",
    },
    "docedit.delete_confirm": {"zh": "确认删除", "en": "Delete it"},
    "docedit.delete_forbidden": {
        "zh": "只有经理和管理员可以删除文档。",
        "en": "Only managers and admins may delete documents.",
    },
    "docedit.deleted": {
        "zh": "已删除「{title}」（共 {n} 份文档）。",
        "en": "Deleted “{title}” ({n} document(s)).",
    },
    "link.method.given": {"zh": "入库时指定", "en": "given at intake"},
    "link.method.credit_code": {"zh": "信用代码一致", "en": "same credit code"},
    "link.method.name": {"zh": "全称一致", "en": "same full name"},
    "link.method.alias": {"zh": "简称一致", "en": "same short name"},
    "link.method.fuzzy": {"zh": "名称相近", "en": "similar name"},
    "link.method.manual": {"zh": "人工关联", "en": "linked by hand"},
    "link.method.contact": {"zh": "联系人一致", "en": "known contact"},
    "link.method.attachment": {"zh": "附件中的客户", "en": "from an attachment"},
    "link.method.suggested": {"zh": "新公司（待确认）", "en": "new company (to confirm)"},
    "entity.customer": {"zh": "客户", "en": "Customer"},
    "entity.person": {"zh": "联系人", "en": "Contact person"},
    "entity.uscc": {"zh": "统一社会信用代码", "en": "Unified social credit code"},
    "entity.invoice_code": {"zh": "发票代码", "en": "Invoice code"},
    "entity.invoice_no": {"zh": "发票号码", "en": "Invoice no."},
    "entity.quote_no": {"zh": "报价单号", "en": "Quote no."},
    "entity.order_no": {"zh": "订单号", "en": "Order no."},
    "entity.bank_account": {"zh": "银行账号", "en": "Bank account"},
    "entity.address": {"zh": "地址", "en": "Address"},
    "entity.url": {"zh": "网址", "en": "URL"},
    # upload
    "nav.upload": {"zh": "上传", "en": "Upload"},
    "upload.title": {"zh": "上传文件", "en": "Upload files"},
    "upload.files": {"zh": "选择文件（可多选）", "en": "Files (several at once)"},
    "upload.customer": {"zh": "客户（可选）", "en": "Customer (optional)"},
    "upload.customer_hint": {
        "zh": "输入客户全称、简称或别名，可从登记册的名称中选择；登记册中没有的名称将作为待确认的客户建议。",
        "en": "Type a customer's full name, short name or alias, or pick one of the registry's names; a name"
        " the registry does not know becomes a customer suggestion for review.",
    },
    "upload.customer.registered": {
        "zh": "“{name}”已归入登记客户“{customer}”。",
        "en": "“{name}” is filed under the registered customer “{customer}”.",
    },
    "upload.customer.pending": {
        "zh": "“{name}”不在客户登记册中：文件归入待确认的客户建议，由管理员或经理在客户页面确认。",
        "en": "“{name}” is not in the customer registry: the files are filed under a pending suggestion"
        " that an admin or manager confirms on the customers page.",
    },
    "upload.customer.rejected": {
        "zh": "“{name}”已被拒绝为客户：文件未归入任何客户。",
        "en": "“{name}” was rejected as a customer: the files are filed without a customer.",
    },
    "upload.customer.self": {
        "zh": "“{name}”是本公司，不是客户：文件未归入任何客户。",
        "en": "“{name}” is our own company, not a customer: the files are filed without a customer.",
    },
    "upload.customer.ambiguous": {
        "zh": "“{name}”对应多个客户（{candidates}），请填写全称：文件未归入任何客户。",
        "en": "“{name}” fits several customers ({candidates}); give the full name: the files are filed"
        " without a customer.",
    },
    "upload.doc_type": {"zh": "文件类型", "en": "Document type"},
    "upload.auto": {"zh": "自动识别", "en": "Detect automatically"},
    "upload.tags": {"zh": "标签（可选，用逗号分隔）", "en": "Tags (optional, comma-separated)"},
    "upload.tags_hint": {"zh": "例如：重点, 2024", "en": "e.g. key, 2024"},
    "upload.submit": {"zh": "上传并入库", "en": "Upload and index"},
    "upload.results": {"zh": "处理结果", "en": "Results"},
    "upload.added": {"zh": "已入库", "en": "Added"},
    "upload.duplicate": {"zh": "重复文件（已存在）", "en": "Duplicate (already stored)"},
    "upload.open": {"zh": "查看", "en": "Open"},
    "upload.none": {"zh": "请选择至少一个文件。", "en": "Choose at least one file."},
    "upload.too_many": {"zh": "一次最多上传 {n} 个文件。", "en": "At most {n} files at once."},
    "upload.accepted": {
        "zh": "已接收 {n} 个文件：{queued} 个排队处理，{duplicate} 个重复，{failed} 个失败。处理进度见下方。",
        "en": "{n} file(s) received: {queued} queued, {duplicate} duplicate(s), {failed} failed. Progress below.",
    },
    "upload.drop": {"zh": "把文件拖到这里，或点击选择文件", "en": "Drop files here, or click to choose"},
    "upload.chosen": {"zh": "已选择 {n} 个文件，共 {size}", "en": "{n} file(s) chosen, {size} in all"},
    "upload.limits": {
        "zh": "一次最多 {n} 个文件，合计不超过 {mb} MB。",
        "en": "Up to {n} files at once, {mb} MB in all.",
    },
    "upload.over_size": {
        "zh": "所选文件合计超过 {mb} MB，请分几次上传。",
        "en": "The chosen files exceed {mb} MB in all; upload them in several goes.",
    },
    "upload.queued_note": {
        "zh": "上传后文件会在后台排队解析和 OCR，可在“任务”页查看进度。",
        "en": "Uploaded files are parsed and OCRed in the background; follow them on the Jobs page.",
    },
    # jobs (intake batches)
    "nav.jobs": {"zh": "任务", "en": "Jobs"},
    "jobs.title": {"zh": "导入任务", "en": "Intake jobs"},
    "jobs.batch_title": {"zh": "导入任务 #{id}", "en": "Intake job #{id}"},
    "jobs.back": {"zh": "返回任务列表", "en": "Back to all jobs"},
    "jobs.none": {
        "zh": "还没有导入任务。上传文件或运行 dossier ingest 后会出现在这里。",
        "en": "No intake jobs yet. Upload files or run dossier ingest and they appear here.",
    },
    "jobs.id": {"zh": "编号", "en": "No."},
    "jobs.source": {"zh": "来源", "en": "Source"},
    "jobs.created_by": {"zh": "提交人", "en": "Submitted by"},
    "jobs.created_at": {"zh": "开始时间", "en": "Started"},
    "jobs.finished_at": {"zh": "完成时间", "en": "Finished"},
    "jobs.state": {"zh": "状态", "en": "State"},
    "jobs.files": {"zh": "文件", "en": "Files"},
    "jobs.pages": {"zh": "页", "en": "Pages"},
    "jobs.progress": {"zh": "进度", "en": "Progress"},
    "jobs.files_progress": {"zh": "文件 {done} / {total}", "en": "Files {done} / {total}"},
    "jobs.pages_progress": {"zh": "页 {done} / {total}", "en": "Pages {done} / {total}"},
    "jobs.speed": {"zh": "速度", "en": "Speed"},
    "jobs.pages_per_s": {"zh": "{v} 页/秒", "en": "{v} pages/s"},
    "jobs.eta": {"zh": "预计剩余", "en": "Time left"},
    "jobs.elapsed": {"zh": "已用时间", "en": "Elapsed"},
    "jobs.unknown": {"zh": "—", "en": "—"},
    "jobs.open": {"zh": "详情", "en": "Details"},
    "jobs.counts": {"zh": "各状态文件数", "en": "Files by state"},
    "jobs.count.total": {"zh": "总数", "en": "Total"},
    "jobs.count.queued": {"zh": "排队中", "en": "Queued"},
    "jobs.count.processing": {"zh": "处理中", "en": "Processing"},
    "jobs.count.done": {"zh": "已完成", "en": "Done"},
    "jobs.count.duplicate": {"zh": "重复", "en": "Duplicates"},
    "jobs.count.failed": {"zh": "失败", "en": "Failed"},
    "jobs.count.pending": {"zh": "待处理页", "en": "Pages pending"},
    "jobs.count.pages_failed": {"zh": "失败页", "en": "Pages failed"},
    "jobs.state.queued": {"zh": "排队中", "en": "Queued"},
    "jobs.state.running": {"zh": "处理中", "en": "Running"},
    "jobs.state.done": {"zh": "已完成", "en": "Done"},
    "jobs.source.cli": {"zh": "命令行", "en": "Command line"},
    "jobs.source.upload": {"zh": "网页上传", "en": "Upload"},
    "jobs.source.inbox": {"zh": "扫描收件箱", "en": "Scan inbox"},
    "jobs.live": {
        "zh": "此页面每隔几秒自动刷新进度。",
        "en": "This page refreshes the progress every few seconds.",
    },
    "jobs.live_error": {
        "zh": "暂时无法获取最新进度，稍后自动重试。",
        "en": "Could not fetch the latest progress; trying again shortly.",
    },
    "jobs.failures": {"zh": "失败的文件和原因", "en": "Failures and their reasons"},
    "jobs.no_failures": {"zh": "没有失败的文件。", "en": "No failures."},
    "jobs.failure_page": {"zh": "第 {n} 页", "en": "page {n}"},
    "jobs.items": {"zh": "本批文件", "en": "Files in this job"},
    "jobs.file": {"zh": "文件", "en": "File"},
    "jobs.reason": {"zh": "原因", "en": "Reason"},
    "jobs.document": {"zh": "文档", "en": "Document"},
    "jobs.retry_all": {"zh": "重试全部失败项", "en": "Retry all failures"},
    "jobs.retry_one": {"zh": "重试", "en": "Retry"},
    "jobs.retried": {"zh": "已重新排队 {n} 项。", "en": "{n} item(s) queued again."},
    "jobs.nothing_to_retry": {"zh": "没有需要重试的失败项。", "en": "There is nothing to retry."},
    "jobs.retry_failed": {"zh": "重试失败：{msg}", "en": "Retry failed: {msg}"},
    "jobs.retry_forbidden": {
        "zh": "只读用户不能重试任务 / read-only users may not retry jobs",
        "en": "Read-only users may not retry jobs.",
    },
    "jobs.bad_document_id": {
        "zh": "文档编号无效：{value} / not a document id: {value}",
        "en": "Not a document id: {value}",
    },
    "duration.h": {"zh": "{h} 小时 {m} 分", "en": "{h} h {m} min"},
    "duration.m": {"zh": "{m} 分 {s} 秒", "en": "{m} min {s} s"},
    "duration.s": {"zh": "{s} 秒", "en": "{s} s"},
    "status.done": {"zh": "已完成", "en": "Done"},
    "status.duplicate": {"zh": "重复", "en": "Duplicate"},
    # customers (the customer folder)
    "nav.customers": {"zh": "客户", "en": "Customers"},
    "customers.title": {"zh": "客户档案", "en": "Customers"},
    "customers.owner.no_account": {
        "zh": "负责人“{owner}”没有对应账户，{n} 个客户未关联：请添加该用户，或把其显示名设为“{owner}”。",
        "en": "Owner “{owner}” matches no account; {n} customer(s) are not linked: add the user, or set their"
        " display name to “{owner}”.",
    },
    "customers.owner.ambiguous": {
        "zh": "负责人“{owner}”同时匹配多个账户（{accounts}），{n} 个客户未关联：请在登记册中改用登录名，或修改显示名。",
        "en": "Owner “{owner}” fits several accounts ({accounts}); {n} customer(s) are not linked: use the login in"
        " the registry, or change a display name.",
    },
    "customers.filters": {"zh": "筛选客户", "en": "Filter customers"},
    "customers.filter.q": {"zh": "名称、简称或信用代码", "en": "Name, short name or credit code"},
    "customers.filter.all": {"zh": "全部", "en": "All"},
    "customers.filter.apply": {"zh": "筛选", "en": "Filter"},
    "customers.filter.clear": {"zh": "清除筛选", "en": "Clear filters"},
    "customers.count": {"zh": "共 {n} 个客户", "en": "{n} customer(s)"},
    "customers.none": {"zh": "没有符合筛选条件的客户。", "en": "No customers match these filters."},
    "customers.empty": {
        "zh": "客户名录还是空的。可用 dossier customers import 导入客户名录。",
        "en": "The customer registry is empty. Import one with dossier customers import.",
    },
    "customers.col.name": {"zh": "客户名称", "en": "Name"},
    "customers.col.type": {"zh": "客户类型", "en": "Type"},
    "customers.col.stage": {"zh": "阶段", "en": "Stage"},
    "customers.col.industry": {"zh": "行业", "en": "Industry"},
    "customers.col.region": {"zh": "地区", "en": "Region"},
    "customers.col.importance": {"zh": "重要程度", "en": "Importance"},
    "customers.col.owner": {"zh": "负责人", "en": "Owner"},
    "customers.col.documents": {"zh": "文件数", "en": "Documents"},
    "customers.col.credit_code": {"zh": "统一社会信用代码", "en": "Credit code"},
    "customers.col.actions": {"zh": "操作", "en": "Actions"},
    "customers.suggested": {"zh": "待确认的客户（{n}）", "en": "Suggested customers ({n})"},
    "customers.suggested_note": {
        "zh": "这些公司出现在文件中，但不在客户名录里。请确认、拒绝，或合并到已有客户。",
        "en": "These companies appear in documents but are not in the registry. Confirm, reject, or merge them into a customer.",
    },
    "customers.confirm": {"zh": "确认", "en": "Confirm"},
    "customers.reject": {"zh": "拒绝", "en": "Reject"},
    "customers.merge": {"zh": "合并", "en": "Merge"},
    "customers.merge_into": {"zh": "合并到", "en": "Merge into"},
    "customers.merge_choose": {"zh": "选择客户…", "en": "Choose a customer…"},
    "customers.confirmed": {"zh": "已确认客户“{name}”。", "en": "“{name}” is now a confirmed customer."},
    "customers.rejected": {
        "zh": "已拒绝“{name}”，以后不会再建议。",
        "en": "“{name}” was rejected and will not be suggested again.",
    },
    "customers.merged": {"zh": "已将“{name}”合并到“{into}”。", "en": "“{name}” was merged into “{into}”."},
    "customers.review_forbidden": {
        "zh": "只有管理员和经理可以审核建议的客户 / only admins and managers may review suggested customers",
        "en": "Only admins and managers may review suggested customers.",
    },
    "customers.bad_into": {
        "zh": "请选择要合并到的客户 / choose the customer to merge into",
        "en": "Choose the customer to merge into.",
    },
    "customers.merge_self": {
        "zh": "客户不能合并到自身 / a customer cannot be merged into itself",
        "en": "A customer cannot be merged into itself.",
    },
    "customers.back": {"zh": "返回客户列表", "en": "Back to customers"},
    "customers.details": {"zh": "客户信息", "en": "Details"},
    "customers.aliases": {"zh": "简称", "en": "Also known as"},
    "customers.external_id": {"zh": "客户编号", "en": "Customer no."},
    "customers.address": {"zh": "地址", "en": "Address"},
    "customers.notes": {"zh": "备注", "en": "Notes"},
    "customers.status.confirmed": {"zh": "已确认", "en": "Confirmed"},
    "customers.status.suggested": {"zh": "待确认", "en": "Suggested"},
    "customers.status.rejected": {"zh": "已拒绝", "en": "Rejected"},
    "customers.status.self": {"zh": "本公司", "en": "Our company"},
    "customers.contacts": {"zh": "联系人", "en": "Contacts"},
    "customers.contact.name": {"zh": "姓名", "en": "Name"},
    "customers.contact.title": {"zh": "职务", "en": "Title"},
    "customers.contact.mobile": {"zh": "手机", "en": "Mobile"},
    "customers.contact.landline": {"zh": "座机", "en": "Landline"},
    "customers.contact.email": {"zh": "邮箱", "en": "E-mail"},
    "customers.no_contacts": {"zh": "没有登记联系人。", "en": "No contacts on file."},
    "customers.key_amounts": {"zh": "关键金额", "en": "Key amounts"},
    "customers.no_amounts": {
        "zh": "合同、报价单和发票中还没有识别出金额。",
        "en": "No amounts have been found in contracts, quotes or invoices yet.",
    },
    "customers.amount": {"zh": "金额", "en": "Amount"},
    "customers.amount_role": {"zh": "名目", "en": "Label"},
    "customers.amount_doc": {"zh": "出自", "en": "From"},
    "customers.total.contract": {"zh": "合同金额合计", "en": "Contracts in all"},
    "customers.total.quote": {"zh": "报价金额合计", "en": "Quotes in all"},
    "customers.total.invoice": {"zh": "发票金额合计", "en": "Invoices in all"},
    "customers.key_dates": {"zh": "关键日期", "en": "Key dates"},
    "customers.first_date": {"zh": "最早文件", "en": "First document"},
    "customers.latest_date": {"zh": "最近文件", "en": "Latest document"},
    "customers.contract_dates": {"zh": "合同日期", "en": "Contract dates"},
    "customers.no_dates": {"zh": "还没有带日期的文件。", "en": "No document has a date yet."},
    "customers.documents": {"zh": "文件", "en": "Documents"},
    "customers.doc_count": {"zh": "共 {n} 份文件", "en": "{n} document(s)"},
    "customers.no_documents": {
        "zh": "没有您可以查看的此客户文件。",
        "en": "There are no documents of this customer you may read.",
    },
    "customers.view": {"zh": "文件视图", "en": "Document views"},
    "customers.by_type": {"zh": "按类型", "en": "By type"},
    "customers.by_year": {"zh": "按年份", "en": "By year"},
    "customers.undated": {"zh": "日期不详", "en": "Date unknown"},
    "customers.search": {"zh": "在此客户的文件中检索", "en": "Search this customer's documents"},
    "customers.search_placeholder": {"zh": "例如 报价 服务器", "en": "e.g. 报价 服务器"},
    "customers.linked_by": {"zh": "关联方式", "en": "Linked by"},
    "customers.also_linked": {"zh": "相关", "en": "related"},
    # editing a customer
    "customers.edit": {"zh": "编辑", "en": "Edit"},
    "customers.edit.title": {"zh": "编辑客户：{name}", "en": "Edit customer: {name}"},
    "customers.edit.back": {"zh": "返回客户档案", "en": "Back to the customer's folder"},
    "customers.edit.form": {"zh": "客户信息", "en": "Customer details"},
    "customers.edit.aliases_hint": {
        "zh": "多个简称用“；”“、”或逗号分隔。",
        "en": "Separate short names with ；, 、 or commas.",
    },
    "customers.edit.credit_code_hint": {
        "zh": "18 位；校验位不符的代码照样保存，并给出提示。",
        "en": "18 characters; a code whose check character is wrong is saved and flagged.",
    },
    "customers.edit.region": {"zh": "省份", "en": "Province"},
    "customers.edit.city": {"zh": "城市", "en": "City"},
    "customers.edit.owner_hint": {
        "zh": "销售负责人的姓名；填写用户名时，该用户即为此客户的负责人。",
        "en": "The sales rep's name; a user name makes that user the customer's owner.",
    },
    "customers.edit.not_set": {"zh": "未填写", "en": "Not set"},
    "customers.edit.contacts_hint": {
        "zh": "清空一行即删除该联系人；在空白行填写可添加联系人。",
        "en": "Empty a row to remove that contact; fill in a blank row to add one.",
    },
    "customers.edit.contact_cell": {"zh": "{col}（第 {n} 行）", "en": "{col}, row {n}"},
    "customers.edit.contact_no_name": {
        "zh": "联系人第 {n} 行缺少姓名 / contact row {n} has no name",
        "en": "Contact row {n} has no name.",
    },
    "customers.edit.save": {"zh": "保存", "en": "Save"},
    "customers.edit.cancel": {"zh": "取消", "en": "Cancel"},
    "customers.edit.error": {"zh": "未保存：{msg}", "en": "Not saved: {msg}"},
    "customers.edit.saved": {
        "zh": "已保存“{name}”；{n} 份相关文件已重新分析。",
        "en": "“{name}” saved; {n} related document(s) re-analysed.",
    },
    "customers.edit.warning": {"zh": "请注意：{msg}", "en": "Please note: {msg}"},
    "customers.edit.forbidden": {
        "zh": "只有管理员和经理可以修改客户 / only admins and managers may edit customers",
        "en": "Only admins and managers may edit customers.",
    },
    "customers.edit.not_found": {
        "zh": "客户 {id} 不存在 / customer {id} does not exist",
        "en": "Customer {id} does not exist.",
    },
    "customers.type.prospect": {"zh": "潜在客户", "en": "Prospect (潜在客户)"},
    "customers.type.current": {"zh": "现有客户", "en": "Current (现有客户)"},
    "customers.type.lost": {"zh": "流失客户", "en": "Lost (流失客户)"},
    # export of search results
    "export.title": {"zh": "导出", "en": "Export"},
    "export.what": {
        "zh": "导出当前检索的全部 {n} 条结果（含筛选和排序）：",
        "en": "Export all {n} results of this search (filters and sort included):",
    },
    "export.format.csv": {"zh": "CSV 表格", "en": "CSV"},
    "export.format.xlsx": {"zh": "Excel 表格", "en": "Excel (XLSX)"},
    "export.format.jsonl": {"zh": "JSON Lines", "en": "JSON Lines"},
    "export.format.zip": {"zh": "原件 ZIP", "en": "Originals (ZIP)"},
    "export.note.direct": {"zh": "文件会立即开始下载。", "en": "The file downloads right away."},
    "export.note.job": {
        "zh": "超过 {max} 条结果的导出在后台生成，完成后可在“我的导出”下载，下载链接 {ttl} 小时后失效。",
        "en": "Exports of more than {max} results are prepared in the background; download them from "
        "“My exports”, where the link expires after {ttl} hours.",
    },
    "export.note.direct_large": {
        "zh": "任务队列暂不可用：超过 {max} 条结果的导出将直接下载，可能需要几分钟，请勿关闭页面。",
        "en": "The job queue is unavailable: exports of more than {max} results download directly and may take "
        "minutes; keep this page open.",
    },
    "export.note.max_hits": {"zh": "每次最多导出 {max} 条结果；", "en": "At most {max} results per export;"},
    "export.note.no_max": {"zh": "导出条数不设上限；", "en": "No limit on the number of results;"},
    "export.note.zip": {
        "zh": "原件 ZIP 最多 {files} 个文件、{mb} MB。",
        "en": "a ZIP of originals holds at most {files} files and {mb} MB.",
    },
    "export.over_limit": {
        "zh": "检索结果有 {n} 条，超过导出上限 {max} 条：请添加筛选条件缩小范围后再导出。",
        "en": "The search has {n} results, more than the export limit of {max}: narrow it with filters first.",
    },
    "export.zip_over": {
        "zh": "原件 ZIP 不可用：{n} 条结果超过上限 {max} 个文件，请缩小检索范围，或导出表格。",
        "en": "Originals (ZIP) is unavailable: {n} results exceed its limit of {max} files; narrow the search "
        "or export a table.",
    },
    "export.refused": {"zh": "无法导出：{msg}", "en": "Cannot export: {msg}"},
    "export.failed": {"zh": "导出失败：{msg}", "en": "The export failed: {msg}"},
    "export.started": {
        "zh": "已开始在后台导出 {n} 条结果，完成后可在此下载。",
        "en": "Exporting {n} results in the background; download the file here when it is ready.",
    },
    "export.my_exports": {"zh": "我的导出", "en": "My exports"},
    "export.jobs_hint": {
        "zh": "后台导出的文件只供本人下载，{ttl} 小时后自动删除。",
        "en": "Files of background exports can be downloaded by you only and are deleted after {ttl} hours.",
    },
    "export.no_jobs": {"zh": "还没有后台导出。", "en": "No background exports yet."},
    "export.job_title": {"zh": "导出 #{id}", "en": "Export #{id}"},
    "export.id": {"zh": "编号", "en": "No."},
    "export.format": {"zh": "格式", "en": "Format"},
    "export.query": {"zh": "检索词", "en": "Query"},
    "export.everything": {"zh": "（全部文件）", "en": "(all documents)"},
    "export.filters": {"zh": "筛选", "en": "Filters"},
    "export.filter.customers": {"zh": "客户", "en": "Customer"},
    "export.filter.doc_types": {"zh": "文件类型", "en": "Type"},
    "export.filter.tags": {"zh": "标签", "en": "Tag"},
    "export.filter.date_from": {"zh": "起始日期", "en": "From"},
    "export.filter.date_to": {"zh": "截止日期", "en": "To"},
    "export.filter.customer_ids": {"zh": "客户编号", "en": "Customer id"},
    "export.filter.customer_types": {"zh": "客户类型", "en": "Customer type"},
    "export.filter.industries": {"zh": "行业", "en": "Industry"},
    "export.filter.regions": {"zh": "地区", "en": "Region"},
    "export.filter.years": {"zh": "年份", "en": "Year"},
    "export.created_at": {"zh": "开始时间", "en": "Started"},
    "export.state": {"zh": "状态", "en": "State"},
    "export.hits": {"zh": "进度", "en": "Progress"},
    "export.file": {"zh": "文件", "en": "File"},
    "export.status.queued": {"zh": "排队中", "en": "Queued"},
    "export.status.running": {"zh": "导出中", "en": "Exporting"},
    "export.status.done": {"zh": "已完成", "en": "Done"},
    "export.status.failed": {"zh": "失败", "en": "Failed"},
    "export.status.expired": {"zh": "已过期", "en": "Expired"},
    "export.status.revoked": {"zh": "已作废", "en": "Revoked"},
    "export.progress": {
        "zh": "{done} / {total} 条（{percent}%）",
        "en": "{done} / {total} results ({percent}%)",
    },
    "export.download": {"zh": "下载 {name}", "en": "Download {name}"},
    "export.expires": {"zh": "链接有效至 {at} UTC", "en": "The link works until {at} UTC"},
    "export.live": {"zh": "本页会自动更新进度。", "en": "This page updates itself."},
    "export.live_error": {
        "zh": "暂时无法获取进度，稍后自动重试。",
        "en": "Progress is unavailable for now; retrying shortly.",
    },
    # errors
    "error.title": {"zh": "出错了", "en": "Something went wrong"},
    "error.400": {"zh": "请求有误。", "en": "Bad request."},
    "error.401": {"zh": "请先登录。", "en": "Please log in."},
    "error.403": {"zh": "没有权限执行此操作。", "en": "You may not do this."},
    "error.404": {"zh": "找不到这个页面或文件。", "en": "This page or document does not exist."},
    "error.405": {"zh": "不支持这种请求方式。", "en": "Method not allowed."},
    "error.410": {"zh": "此文件已过期并删除。", "en": "This file has expired and was deleted."},
    "error.413": {
        "zh": "文件太大：一次上传最多 {mb} MB（DOSSIER_MAX_FILE_MB）。请分批上传或压缩后重试。",
        "en": "The file is too large: at most {mb} MB per upload (DOSSIER_MAX_FILE_MB). Upload fewer files at once.",
    },
    "error.429": {"zh": "请求过于频繁，请稍后再试。", "en": "Too many requests; please try again later."},
    "error.422": {"zh": "无法处理此请求。", "en": "This request cannot be carried out."},
    "error.500": {"zh": "服务器内部错误，请稍后再试。", "en": "Internal error; please try again later."},
    "error.csrf": {
        "zh": "表单已过期或来源无效，请刷新页面后重试。",
        "en": "The form expired or came from elsewhere; reload the page and try again.",
    },
    "error.home": {"zh": "回到首页", "en": "Back to the start page"},
    # the audit trail (webui.admin; action names: dossier.app.audit.ACTION_LABELS, added below)
    "audit.nav": {"zh": "审计日志", "en": "Audit trail"},
    "audit.title": {"zh": "审计日志", "en": "Audit trail"},
    "audit.intro": {
        "zh": "登录、搜索、查看、下载、导出、上传、修改、删除等操作都记录在此；记录只能追加，不能修改或删除。时间为 UTC。",
        "en": "Logins, searches, views, downloads, exports, uploads, changes and deletions are recorded here;"
        " events can only be added, never changed or removed. Times are UTC.",
    },
    "audit.user": {"zh": "用户", "en": "User"},
    "audit.action": {"zh": "操作", "en": "Action"},
    "audit.any_action": {"zh": "全部操作", "en": "All actions"},
    "audit.target_type": {"zh": "对象类型", "en": "Target type"},
    "audit.any_target": {"zh": "全部对象", "en": "Any target"},
    "audit.target_id": {"zh": "对象编号", "en": "Target id"},
    "audit.from": {"zh": "起始日期（UTC）", "en": "From (UTC)"},
    "audit.to": {"zh": "截止日期（UTC，含当天）", "en": "To (UTC, inclusive)"},
    "audit.q": {"zh": "详情包含", "en": "Detail contains"},
    "audit.q_placeholder": {
        "zh": "如 搜索词、文件名、IP 地址",
        "en": "e.g. a query, a file name, an address",
    },
    "audit.filter": {"zh": "筛选", "en": "Filter"},
    "audit.reset": {"zh": "清除筛选", "en": "Clear filters"},
    "audit.csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "audit.total": {"zh": "共 {n} 条记录", "en": "{n} events"},
    "audit.none": {"zh": "没有符合条件的记录。", "en": "No events match these filters."},
    "audit.time": {"zh": "时间（UTC）", "en": "Time (UTC)"},
    "audit.target": {"zh": "对象", "en": "Target"},
    "audit.detail": {"zh": "详情", "en": "Detail"},
    "audit.detail_full": {"zh": "完整详情", "en": "Full detail"},
    "audit.deleted": {"zh": "（已删除）", "en": "(deleted)"},
    "audit.pages": {"zh": "分页", "en": "Pages"},
    "audit.prev": {"zh": "上一页", "en": "Previous"},
    "audit.next": {"zh": "下一页", "en": "Next"},
    "audit.page": {"zh": "第 {page} / {pages} 页", "en": "Page {page} of {pages}"},
    "audit.target.document": {"zh": "文档 #{id}", "en": "Document #{id}"},
    "audit.target.batch": {"zh": "导入任务 #{id}", "en": "Intake job #{id}"},
    "audit.type.document": {"zh": "文档", "en": "Document"},
    "audit.type.batch": {"zh": "导入任务", "en": "Intake job"},
    "audit.type.user": {"zh": "用户", "en": "User"},
    "audit.type.search": {"zh": "搜索", "en": "Search"},
    "audit.type.export_job": {"zh": "导出任务", "en": "Export job"},
    "audit.type.api_token": {"zh": "API 令牌", "en": "API token"},
    "audit.type.audit": {"zh": "审计日志", "en": "Audit trail"},
    "audit.type.customer": {"zh": "客户", "en": "Customer"},
    "audit.type.registry": {"zh": "客户登记册", "en": "Customer registry"},
}
MESSAGES.update({f"audit.action.{code}": {"zh": zh, "en": en} for code, (zh, en) in ACTION_LABELS.items()})


def get_language() -> str:
    """Return the language of the current request (``zh`` or ``en``)."""
    if "lang" not in g:
        wanted = request.args.get("lang", "")
        if wanted in LANGUAGES:
            session["lang"] = wanted
        lang = session.get("lang")
        if lang not in LANGUAGES:
            lang = current_app.config.get("DEFAULT_LANGUAGE", "zh")
        g.lang = lang if lang in LANGUAGES else "zh"
    return str(g.lang)


def gettext(message_id: str, **params: Any) -> str:
    """Translate a message id into the current language (the id itself if unknown)."""
    entry = MESSAGES.get(message_id)
    if entry is None:
        return message_id
    text = entry.get(get_language()) or entry["zh"]
    return text.format(**params) if params else text


def has_message(message_id: str) -> bool:
    """Whether a message id exists (templates fall back to raw values otherwise)."""
    return message_id in MESSAGES


def doc_type_label(code: str | None) -> str:
    """The label of a document type code in the current language."""
    from dossier.app.services import DOC_TYPES

    if not code:
        return ""
    labels = DOC_TYPES.get(code)
    if labels is None:
        return code
    return labels[1] if get_language() == "en" else labels[0]


def js_messages(*message_ids: str) -> dict[str, str]:
    """Message patterns in the current language for a static script (it fills ``{name}`` itself)."""
    lang = get_language()
    return {k: MESSAGES[k].get(lang) or MESSAGES[k]["zh"] for k in message_ids if k in MESSAGES}


def lang_switch_query() -> str:
    """The current query string with ``lang`` set to the other language (for the header link)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", "en" if get_language() == "zh" else "zh"))
    return urlencode(args)


def init_app(app: Flask) -> None:
    """Make ``_()``, ``lang``, ``doc_type_label()`` and ``js_messages()`` available to templates."""
    app.jinja_env.globals.update(
        _=gettext,
        has_message=has_message,
        doc_type_label=doc_type_label,
        lang_switch_query=lang_switch_query,
        js_messages=js_messages,
    )

    @app.context_processor
    def _inject_language() -> dict[str, Any]:
        lang = get_language()
        return {"lang": lang, "html_lang": "zh-CN" if lang == "zh" else "en"}
