// The widget's words in Chinese and English; the language comes from the embed (data-lang) or the browser.

const strings = {
  'zh-CN': {
    title: '在线客服',
    placeholder: '输入消息，按 Enter 发送',
    send: '发送',
    close: '关闭',
    greeting: '您好！有什么可以帮您？',
    queued: (n: number) => `正在为您接入客服，您前面还有 ${n - 1} 位`,
    queuedFirst: '正在为您接入客服，您是下一位',
    expectedWait: (minutes: number) => `，预计等待约 ${minutes} 分钟`,
    assigned: (name: string) => `客服 ${name} 正在为您服务`,
    closed: '本次会话已结束，发送消息可开始新的会话',
    timeout: '客服暂时忙碌，请稍候，或稍后再来',
    reconnecting: '连接中断，正在重新连接…',
    failed: '发送失败',
    retry: '重试',
    typing: (name: string) => `${name} 正在输入…`,
    you: '我',
    rateTitle: '请为本次服务评分',
    rateComment: '还有什么想告诉我们的吗？（选填）',
    rateSubmit: '提交评价',
    rateThanks: '感谢您的评价！',
    star: (n: number) => `${n} 星`,
    preChatTitle: '开始对话前，请留下您的联系方式',
    preChatStart: '开始对话',
    fieldName: '姓名',
    fieldEmail: '邮箱',
    fieldPhone: '电话',
    outsideHours: '现在是非工作时间。请留言，我们上班后会通过邮件或电话回复您。',
    noAgents: '客服暂时不在线。请留言，我们会尽快通过邮件或电话回复您。',
    queueTimeoutLeave: '如果不方便继续等待，请留下联系方式，我们会尽快回复您。',
    fieldMessage: '留言内容',
    leaveMessage: '提交留言',
    leaveContact: '提交联系方式',
    contactRequired: '请至少填写邮箱或电话',
    offlineThanks: '已收到您的留言，我们会尽快回复您。',
    ticksSent: '已发送',
    ticksRead: '已读',
  },
  en: {
    title: 'Chat with us',
    placeholder: 'Type a message, Enter to send',
    send: 'Send',
    close: 'Close',
    greeting: 'Hello! How can we help?',
    queued: (n: number) => `Connecting you to an agent: ${n - 1} ahead of you`,
    queuedFirst: 'Connecting you to an agent: you are next',
    expectedWait: (minutes: number) => `, about ${minutes} min to wait`,
    assigned: (name: string) => `${name} is helping you`,
    closed: 'This conversation has ended. Write to start a new one.',
    timeout: 'Our agents are busy right now. Please wait, or come back later.',
    reconnecting: 'Connection lost, reconnecting…',
    failed: 'Not sent',
    retry: 'Retry',
    typing: (name: string) => `${name} is typing…`,
    you: 'You',
    rateTitle: 'How did we do?',
    rateComment: 'Anything else you would like to tell us? (optional)',
    rateSubmit: 'Send rating',
    rateThanks: 'Thank you for your feedback!',
    star: (n: number) => `${n} star${n > 1 ? 's' : ''}`,
    preChatTitle: 'Before we start, please tell us how to reach you',
    preChatStart: 'Start chat',
    fieldName: 'Name',
    fieldEmail: 'Email',
    fieldPhone: 'Phone',
    outsideHours: "We're outside our working hours. Leave a message and we'll reply by email or phone when we're back.",
    noAgents: "No one is available right now. Leave a message and we'll reply by email or phone soon.",
    queueTimeoutLeave: "If you can't wait, leave your contact details and we'll get back to you.",
    fieldMessage: 'Message',
    leaveMessage: 'Leave a message',
    leaveContact: 'Send my details',
    contactRequired: 'Please give an email address or a phone number',
    offlineThanks: "Thanks, we've got your message and will get back to you soon.",
    ticksSent: 'Sent',
    ticksRead: 'Read',
  },
};

export type Lang = keyof typeof strings;
export type Strings = (typeof strings)['en'];

export function pickLang(requested: string | null, browser: string): Lang {
  const wanted = (requested ?? browser).toLowerCase();
  return wanted.startsWith('zh') ? 'zh-CN' : 'en';
}

export function t(lang: Lang): Strings {
  return strings[lang];
}
